"""A setting the ``assurehub`` command needs that is missing or does not
fit: one line on stderr naming the variable, exit status 2, no traceback."""

from __future__ import annotations

import os

import pytest

from tests.command_line import assurehub

KEYS = (
    "ASSUREHUB_JWT_SIGNING_KEY",
    "ASSUREHUB_TOTP_ENCRYPTION_KEYS",
    "ASSUREHUB_RECOVERY_CODE_KEY",
    "ASSUREHUB_LOG_SIGNING_KEYS",
    "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS",
)


def production(without: str = "", **env: str) -> dict[str, str]:
    """Production with every key set but ``without``."""
    return {
        "ASSUREHUB_ENV": "production",
        "ASSUREHUB_DATABASE_URL": os.environ["ASSUREHUB_TEST_DATABASE_URL"],
        **{k: os.environ[k] for k in KEYS if k != without},
        **env,
    }


@pytest.mark.parametrize(
    ("args", "without", "env", "setting"),
    [
        (
            ("documents", "verify", __file__),
            "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS",
            {},
            "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS",
        ),
        (
            ("projections", "status"),
            "ASSUREHUB_JWT_SIGNING_KEY",
            {},
            "ASSUREHUB_JWT_SIGNING_KEY",
        ),
        (
            ("person-keys", "status"),
            "",
            {"ASSUREHUB_PERSON_KEY_WRAPPING_KEYS": "k1:abcd"},
            "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS",
        ),
        (("health", "relay"), "", {"ASSUREHUB_API_PORT": "0"}, "ASSUREHUB_API_PORT"),
    ],
    ids=["documents-verify", "projections", "person-keys", "health"],
)
def test_a_missing_or_bad_setting_is_one_line_naming_it(args, without, env, setting):
    done = assurehub(*args, env=production(without, **env))

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = [t for t in done.stderr.splitlines() if t.startswith("assurehub ")]
    assert line.startswith(f"assurehub {args[0]}: {setting}"), line
