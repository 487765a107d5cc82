"""Answer examples in the OpenAPI document exactly as the models give them.

FastAPI writes the document with ``exclude_none``, which also drops every
``null`` inside a model's ``examples``: an example of a row with nullable
columns would lose those keys and no longer match its own schema. This puts
each answer model's examples back as the model declares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter

from read_api.routing import api_routes


def _schemas(answer: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every named schema of an answer type, by component name."""
    if isinstance(answer, type) and issubclass(answer, BaseModel):
        schema = answer.model_json_schema(mode="serialization")
        yield answer.__name__, schema
    else:
        schema = TypeAdapter(answer).json_schema(mode="serialization")
    yield from schema.get("$defs", {}).items()


def answer_examples(app: FastAPI) -> dict[str, list[Any]]:
    """The examples of every answer model of ``app``'s routes, by name."""
    found: dict[str, list[Any]] = {}
    for route in api_routes([app.router]):
        if route.response_model is not None:
            for name, schema in _schemas(route.response_model):
                if "examples" in schema:
                    found[name] = schema["examples"]
    return found


def keep_answer_examples(app: FastAPI) -> None:
    """Make ``app.openapi()`` show answer examples with their nulls."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.get("components", {}).get("schemas", {})
        for name, examples in answer_examples(app).items():
            if name in components:
                components[name]["examples"] = examples
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
