"""The AsyncAPI document, public like ``/openapi.json``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from infra.streaming import asyncapi


def install_asyncapi(app: FastAPI) -> None:
    """Serve the AsyncAPI document at ``/asyncapi.json`` and ``/asyncapi.yaml``."""

    @app.get("/asyncapi.json", include_in_schema=False)
    def asyncapi_json() -> Response:
        return Response(asyncapi.as_json(), media_type="application/json")

    @app.get("/asyncapi.yaml", include_in_schema=False)
    def asyncapi_yaml() -> Response:
        return Response(asyncapi.as_yaml(), media_type="application/yaml")
