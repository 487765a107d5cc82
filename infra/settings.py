"""Typed settings, read once from the environment and passed down.

Every variable is prefixed ``ASSUREHUB_``. Nothing reads the environment at
import time: call :func:`load_settings` in an entry point.
"""

from __future__ import annotations

import os
from datetime import time
from enum import StrEnum
from pathlib import Path

from pydantic import Field, PostgresDsn, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.errors import SettingError


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


MAX_DEFAULT_API_WORKERS = 4
"""The most API workers chosen from the core count alone: each holds its own
Postgres pool (``db_pool_size``), so more is an explicit choice."""


def default_api_workers() -> int:
    """One API worker per CPU this process may use, at most
    :data:`MAX_DEFAULT_API_WORKERS`."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cpus = len(usable) if usable else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_DEFAULT_API_WORKERS))


class Settings(BaseSettings):
    """AssureHub configuration. See the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="ASSUREHUB_", extra="ignore")

    env: Environment = Environment.PRODUCTION
    database_url: PostgresDsn
    db_pool_size: int = Field(default=10, ge=1, le=200)
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    kafka_topic: str = Field(default="assurehub.events", pattern=r"^[A-Za-z0-9._-]+$")
    kafka_partitions: int = Field(default=3, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)
    projector_batch_records: int = Field(default=2000, ge=1, le=50_000)
    """Records a projector process's poll hands its read models at most (each
    applies them in one transaction): a backlog drains in batches this large;
    a caught-up projector gets what has arrived, however few."""
    redis_url: str = "redis://127.0.0.1:56379/0"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_workers: int = Field(default_factory=default_api_workers, ge=1, le=64)
    """uvicorn worker processes of ``assurehub api`` (default: one per usable
    CPU, at most :data:`MAX_DEFAULT_API_WORKERS`)."""
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_format: LogFormat = LogFormat.JSON
    event_source: str = "/assurehub"
    read_wait_seconds: float = Field(default=5.0, gt=0, le=60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    upload_max_bytes: int = Field(default=26_214_400, ge=1024)
    media_dir: Path = Path("var/media")
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    feed_max_wait_seconds: float = Field(default=25.0, ge=0, le=60)
    feed_stream_seconds: float = Field(default=300.0, gt=0, le=3600)
    expiry_check_seconds: float = Field(default=60.0, gt=0, le=86_400)
    projection_stall_seconds: float = Field(default=120.0, gt=0, le=86_400)
    """A projection behind the head that has not moved for this long is
    reported ``stalled`` by ``assurehub projections status``."""
    idempotency_retention_hours: int = Field(default=48, ge=24, le=24 * 365)
    heartbeat_dir: Path = Path("var/run")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    """Port of ``GET /metrics`` (0: no process serves it)."""
    metrics_dir: Path | None = Path("var/metrics")
    """Where the processes of one host write their metrics (multiprocess
    mode); empty: each process keeps its own."""
    cache_ttl_seconds: int = Field(default=300, ge=1, le=86_400)
    redis_timeout_seconds: float = Field(default=0.2, gt=0, le=10)
    redis_pause_seconds: float = Field(default=5.0, ge=0, le=300)
    verify_attempts_per_minute: int = Field(default=10, ge=1, le=100_000)
    verify_attempts_per_number_hour: int = Field(default=20, ge=1, le=100_000)
    # Identity and access. Keys are hex; generated under var/secrets locally.
    jwt_signing_key: SecretStr | None = None
    jwt_issuer: str = "assurehub"
    jwt_audience: str = "assurehub-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_days: int = Field(default=14, ge=1, le=90)
    totp_encryption_keys: SecretStr | None = None
    """``version:hexkey[,version:hexkey...]``; the first encrypts, all decrypt."""
    totp_issuer: str = "AssureHub"
    recovery_code_key: SecretStr | None = None
    invitation_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    password_reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)
    public_base_url: str = "http://127.0.0.1:8000"
    login_failures_before_lockout: int = Field(default=5, ge=1, le=100)
    address_failures_before_lockout: int = Field(default=50, ge=1, le=10_000)
    lockout_base_seconds: int = Field(default=30, ge=1, le=3600)
    lockout_max_seconds: int = Field(default=3600, ge=1, le=86_400)
    auth_attempts_per_minute: int = Field(default=20, ge=1, le=100_000)
    """Password resets and invitation acceptances, per address and account."""
    api_requests_per_minute: int = Field(default=1200, ge=1, le=1_000_000)
    """The general limit per access or API token."""
    mail_dir: Path = Path("var/mail")
    """Where the development mail sender writes ``.eml`` files."""
    smtp_host: str | None = None
    """When set, mail goes over SMTP instead of into ``mail_dir``."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "AssureHub <no-reply@assurehub.invalid>"
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=300)
    outbox_retention_hours: int = Field(default=24, ge=1, le=24 * 365)
    """How long a message never sent keeps its body (its links) once given up."""
    frontend_base_url: str = "http://127.0.0.1:3000"
    """Base of the links in notification e-mails (the web application)."""
    schedule_time_of_day: time = time(2, 0)
    """When (each tenant's clock) the scheduler runs the day's jobs."""
    notifications_poll_seconds: float = Field(default=1.0, gt=0, le=300)
    """How long the notification processor waits when it has nothing to do."""
    documents_poll_seconds: float = Field(default=1.0, gt=0, le=300)
    """How long the document processor waits for a job when it has none."""
    log_signing_keys: SecretStr | None = None
    """``key_id:hexseed[,key_id:hexseed...]`` (Ed25519 seeds, 32 bytes); the
    first signs checkpoints, every one's public key is published."""
    person_key_wrapping_keys: SecretStr | None = None
    """``key_id:64-hex[,key_id:64-hex...]``: AES-256 keys that wrap the
    per-person data keys at rest; the first wraps, every one unwraps."""
    log_checkpoint_events: int = Field(default=1000, ge=1, le=10_000_000)
    """A tenant's chain is signed after this many new events..."""
    log_checkpoint_seconds: float = Field(default=60.0, gt=0, le=86_400)
    """... or once its oldest unsigned event is this old."""
    log_watch_seconds: float = Field(default=5.0, gt=0, le=3600)
    """How often the log watcher re-verifies the newest segments and signs."""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """Bound of one delivery attempt (connect, send, answer)."""
    webhook_max_response_bytes: int = Field(default=65_536, ge=0, le=10_485_760)
    """How much of a receiver's answer is read at most."""
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    webhook_retry_window_seconds: float = Field(default=86_400.0, gt=0, le=7 * 86_400)
    """How long deliveries may keep failing before the subscription is paused."""
    webhook_secret_grace_seconds: float = Field(default=86_400.0, ge=0, le=7 * 86_400)
    """How long a rotated-out signing secret keeps signing beside the new one."""
    webhook_concurrency: int = Field(default=16, ge=1, le=256)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_allow_insecure_targets: bool | None = None
    """``http`` and loopback/private targets; default: only in development.
    Refused in production."""

    @field_validator(
        "jwt_signing_key", "recovery_code_key", mode="after", check_fields=False
    )
    @classmethod
    def _hex_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            try:
                key = bytes.fromhex(raw)
            except ValueError as e:
                raise ValueError("must be hex") from e
            if len(key) < 32:
                raise ValueError("must be at least 32 bytes (64 hex characters)")
        return value

    def totp_keys(self) -> list[tuple[int, bytes]]:
        """The TOTP encryption keys by version, the current one first."""
        keys = _keyed(self.totp_encryption_keys, "ASSUREHUB_TOTP_ENCRYPTION_KEYS")
        if not all(version.isdigit() for version, _ in keys):
            raise SettingError(
                "ASSUREHUB_TOTP_ENCRYPTION_KEYS: version:64 hex characters, ..."
            )
        return [(int(version), key) for version, key in keys]

    def log_keys(self) -> list[tuple[str, bytes]]:
        """The checkpoint signing keys (id, Ed25519 seed), the signing one first."""
        return _keyed(self.log_signing_keys, "ASSUREHUB_LOG_SIGNING_KEYS")

    def person_key_wrapping(self) -> list[tuple[str, bytes]]:
        """The person key wrapping keys (id, AES-256 key), the wrapping one first."""
        return _keyed(
            self.person_key_wrapping_keys, "ASSUREHUB_PERSON_KEY_WRAPPING_KEYS"
        )

    @model_validator(mode="after")
    def _no_insecure_webhooks_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.webhook_allow_insecure_targets:
            raise ValueError(
                "ASSUREHUB_WEBHOOK_ALLOW_INSECURE_TARGETS is refused in production"
            )
        return self

    @property
    def webhook_insecure_targets(self) -> bool:
        """Whether webhook targets may be ``http`` or non-public addresses."""
        if self.webhook_allow_insecure_targets is None:
            return self.env is Environment.DEVELOPMENT
        return self.webhook_allow_insecure_targets

    @property
    def dev_headers(self) -> bool:
        """Development headers build the caller only in development."""
        return self.env is Environment.DEVELOPMENT


def _keyed(value: SecretStr | None, variable: str) -> list[tuple[str, bytes]]:
    """``id:64-hex[,id:64-hex...]`` as ``(id, 32-byte key)`` pairs, in order."""
    if value is None:
        return []
    return keyed(value.get_secret_value(), variable)


def keyed(text: str, variable: str) -> list[tuple[str, bytes]]:
    """The keys of a ``id:64-hex[,id:64-hex...]`` setting's text (``variable``
    names it in the error), in order; none for an empty text."""
    if not text:
        return []
    keys = []
    for part in text.split(","):
        key_id, _, hexkey = part.strip().partition(":")
        try:
            key = bytes.fromhex(hexkey)
        except ValueError:
            key = b""
        if not key_id or len(key) != 32:
            raise SettingError(f"{variable}: id:64 hex characters, ...")
        keys.append((key_id, key))
    return keys


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]
