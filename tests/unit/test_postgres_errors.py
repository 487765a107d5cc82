"""Which driver errors mean text Postgres cannot hold."""

from __future__ import annotations

import psycopg
import pytest

from infra.errors import UnstorableTextError
from infra.postgres.errors import is_unstorable, raise_if_unstorable


def encoding_error() -> UnicodeEncodeError:
    try:
        "a\ud800".encode()
    except UnicodeEncodeError as e:
        return e
    raise AssertionError("a lone surrogate encoded")


def server_error(sqlstate: str) -> psycopg.DataError:
    error = psycopg.DataError("refused by the server")
    error.sqlstate = sqlstate
    return error


@pytest.mark.parametrize(
    "error",
    [
        psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        encoding_error(),
        server_error("22021"),
        server_error("22P05"),
    ],
)
def test_nul_surrogates_and_untranslatable_characters_are_unstorable_text(error):
    assert is_unstorable(error)
    with pytest.raises(UnstorableTextError) as raised:
        raise_if_unstorable(error)
    assert raised.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        server_error("22003"),  # numeric value out of range: not about text
        psycopg.DataError("invalid input syntax for type uuid"),
        psycopg.OperationalError("connection refused"),
        ValueError("x"),
    ],
)
def test_other_errors_are_left_to_the_caller(error):
    assert not is_unstorable(error)
    raise_if_unstorable(error)  # returns
