"""Command routes for certificates."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/certificates", tags=["certificates"])
