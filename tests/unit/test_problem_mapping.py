"""Errors from behind the edge become problem answers, never a 500."""

from __future__ import annotations

from fastapi import FastAPI

from infra.errors import UnstorableTextError
from read_api.problems import install_problem_handlers
from tests.in_process import send


def test_text_postgres_cannot_hold_is_a_422_problem_not_a_server_error(caplog):
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/probe")
    def probe() -> None:
        raise UnstorableTextError("A string literal cannot contain NUL (0x00)")

    (answer,) = send(app, [{"method": "GET", "url": "/probe"}])

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unstorable-text"
    assert "NUL" in answer.json()["detail"]
    assert any("cannot hold" in r.getMessage() for r in caplog.records)
