"""ASGI entry point for uvicorn (``read_api.asgi:app_factory``, factory mode)."""

from __future__ import annotations

from fastapi import FastAPI

from infra.bootstrap import bootstrap
from infra.logs import configure_logging
from infra.settings import load_settings
from read_api.app import create_app


def app_factory() -> FastAPI:
    """Read settings, wire the container, build the app."""
    settings = load_settings()
    configure_logging(settings)
    return create_app(bootstrap(settings))
