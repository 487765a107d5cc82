"""Command routes for audits and their findings."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/audits", tags=["audits"])
