"""The README's first login (docs/first-login.sh) works as written: against a
server configured like `make run` (development), with the mail processor
writing `.eml` files and the real `assurehub` command inviting the operator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from infra.mail import sender_from_settings
from infra.postgres.outbox import PostgresOutbox
from processors.mail import OutboxDispatcher, run_outbox
from tests.e2e.conftest import api_with
from tests.e2e.identity_helpers import private_redis

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "first-login.sh"


def test_the_first_login_walkthrough_ends_with_api_calls_under_mfa(
    settings, pipeline, tmp_path
):
    mail_dir = tmp_path / "mail"
    # Like `make run`, but this module's neighbours accept many invitations
    # from 127.0.0.1 within the minute: the per-address limit is raised.
    with api_with(
        settings,
        mail_dir=mail_dir,
        redis_url=private_redis(settings.redis_url),
        auth_attempts_per_minute=10_000,
    ) as (client, container):
        # The processors' outbox loop, as `make run` runs it.
        dispatcher = OutboxDispatcher(
            PostgresOutbox(container.database), sender_from_settings(container.settings)
        )
        stop = threading.Event()
        mail = threading.Thread(target=run_outbox, args=(stop, dispatcher, 0.2))
        mail.start()
        try:
            result = subprocess.run(
                ["bash", str(SCRIPT)],
                env={
                    **os.environ,
                    "API": str(client.base_url).rstrip("/"),
                    "MAIL_DIR": str(mail_dir),
                    "SUFFIX": uuid.uuid4().hex[:10],
                    "ASSUREHUB": str(Path(sys.executable).parent / "assurehub"),
                    "PYTHON": sys.executable,
                    "ASSUREHUB_ENV": "development",
                    "ASSUREHUB_DATABASE_URL": str(settings.database_url),
                },
                capture_output=True,
                text=True,
                timeout=100,
                check=False,
            )
        finally:
            stop.set()
            mail.join(timeout=10)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("invited platform administrator ")
    me = json.loads(lines[1])
    assert me["roles"] == ["tenant_admin"]
    assert me["mfa_enrolled"] is True
    assert me["tenant"].startswith("acme-cert-")
    assert json.loads(lines[2])["items"] == []
    assert lines[3] == (
        f"first login done: {me['email']} administers {me['tenant']}, "
        "with a second factor"
    )
