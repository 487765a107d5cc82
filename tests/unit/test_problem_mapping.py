"""Errors from behind the edge become problem answers, never a 500."""

from __future__ import annotations

import psycopg
import pytest
from fastapi import FastAPI

from infra.errors import UnstorableTextError
from infra.postgres.errors import raise_if_contended
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


@pytest.mark.parametrize(
    "driver_error",
    [
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
    ],
)
def test_a_transaction_lost_to_contention_is_a_503_with_retry_after(
    driver_error, caplog
):
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/probe")
    def probe() -> None:
        try:
            raise driver_error
        except psycopg.Error as e:  # as Database.connection maps it
            raise_if_contended(e)
            raise

    (answer,) = send(app, [{"method": "POST", "url": "/probe"}])

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["code"] == "database-contention"
    assert any("contention" in r.getMessage() for r in caplog.records)
