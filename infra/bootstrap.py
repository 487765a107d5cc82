"""The composition root: builds every adapter and service from settings.

The one place where the application is wired: each process calls
:func:`bootstrap` once and gets one :class:`Container` holding one Postgres
pool, one event store, one Redis client and one file store, shared by the
command services, identity, the read side's cached views and the workers.
Nothing connects at import time; pools and clients open on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from kafka.errors import KafkaError

from commands.access_records import AccessRecordService
from commands.audits import AuditService
from commands.certificates import CertificateService
from commands.document_templates import DocumentTemplateService
from commands.documents import DocumentService
from commands.evidence import EvidenceService
from commands.identity.accounts import AccountService
from commands.identity.api_tokens import ApiTokenService
from commands.identity.mfa import MfaService
from commands.identity.ports import Authenticator
from commands.identity.sessions import SessionService
from commands.identity.tenants import TenantService
from commands.log_alerts import LogAlertService
from commands.notification_preferences import NotificationPreferencesService
from commands.organizations import OrganizationService
from commands.ports import EventStore
from commands.services import Services
from commands.standard_templates import StandardTemplateService
from commands.tenant_settings import TenantCalendar, TenantSettingsService
from commands.webhooks import WebhookService
from domain.principal import Role
from domain.tenant_settings import TenantSettings, settings_id
from infra.cache.rate_limit import AuthAttemptLimits, RateLimiter, VerificationLimits
from infra.cache.redis import ReadCache, RedisGuard
from infra.cache.ttl import TtlCache
from infra.cache.views import CachedDashboardView, CachedVerificationView, ReadServices
from infra.document_builds import DocumentBuilder
from infra.erasure.sealing import PersonalCipher
from infra.erasure.wrapping import KeyWrapping
from infra.errors import DependencyUnavailableError
from infra.eventlog.signing import CheckpointSigner, signing_keys
from infra.eventlog.watch import LogWatcher
from infra.eventstore.store import EVENTS_TABLE, LibraryEventStore, postgres_env
from infra.files import LocalFileStore
from infra.health import HealthCheck
from infra.history.reader import PostgresHistory
from infra.identity.authenticator import (
    DevelopmentAuthenticator,
    TokenAuthenticator,
    TokenThrottle,
)
from infra.identity.crypto import (
    HmacRecoveryCodes,
    JwtIssuer,
    OpaqueSecrets,
    SecurityPasswords,
    SecurityTotp,
    SystemClock,
)
from infra.identity.keys import identity_key, totp_secrets
from infra.identity.login_guard import LockoutPolicy, LoginGuard
from infra.identity.security.passwords import PasswordHasher, PasswordPolicy
from infra.identity.security.tokens import AccessTokens
from infra.identity.security.totp import RecoveryCodes, Totp
from infra.mail import MailSender, sender_from_settings
from infra.metrics.instruments import configure as configure_metrics
from infra.metrics.server import MetricsServer
from infra.postgres.audit_teams import PostgresAuditTeams
from infra.postgres.certificate_expiry import PostgresDueCertificates
from infra.postgres.certificate_numbers import PostgresCertificateNumbers
from infra.postgres.dashboard import PostgresDashboardView
from infra.postgres.document_jobs import PostgresDocumentJobs
from infra.postgres.identity import PostgresIdentityDirectory
from infra.postgres.issued_documents import PostgresIssuedDocuments
from infra.postgres.notification_preferences import PostgresPreferences
from infra.postgres.notifications import PostgresNotifications
from infra.postgres.organizations import PostgresOrganizationView
from infra.postgres.outbox import PostgresOutbox
from infra.postgres.person_keys import PostgresPersonKeys
from infra.postgres.pool import Database
from infra.postgres.progress import ProjectionProgress
from infra.postgres.schedules import PostgresSchedules
from infra.postgres.verification import PostgresVerificationView
from infra.postgres.watermark import ProgressWatermark
from infra.postgres.webhooks import PostgresWebhooks
from infra.projection.as_of import AsOfFolds
from infra.projection.host import GROUP, ProjectorHost
from infra.projection.rebuild import SPLIT_FROM, Rebuilder
from infra.projection.registry import READ_MODELS, all_projections, by_name
from infra.projection.runner import ProjectionRunner
from infra.projection.state_metrics import StateCollector
from infra.projection.status import ProjectionStatus, projection_status
from infra.settings import Settings
from infra.streaming import kafka
from infra.streaming.event_schemas import PUBLIC_TYPES
from infra.streaming.feed import EventFeed
from infra.streaming.relay import Relay
from infra.streaming.stored_envelopes import StoredEnvelopes
from infra.webhooks.fanout import GROUP_ID, WebhookFanout
from infra.webhooks.sender import RetryPolicy, WebhookSender
from infra.webhooks.signing import mint_secret
from infra.webhooks.targets import TargetPolicy
from infra.webhooks.transport import HttpTransport
from projections.certificate_expiry import CertificateExpiryProjection
from projections.document_jobs import DocumentJobsProjection
from projections.notification_intents import NotificationIntentsProjection
from projections.ports import TableProjection

log = logging.getLogger(__name__)

TEAM_TTL_SECONDS = 5.0
"""How late an auditor may see a change of the audit teams naming them."""
MFA_POLICY_TTL_SECONDS = 30.0
"""How late an API process may apply a change of a tenant's MFA policy."""


@dataclass
class Container:
    """Everything an entry point needs, built once."""

    settings: Settings
    database: Database
    event_store: LibraryEventStore
    services: Services
    organization_view: PostgresOrganizationView
    progress: ProjectionProgress
    authenticator: Authenticator
    health: HealthCheck
    identity_directory: PostgresIdentityDirectory
    attempt_limits: AuthAttemptLimits
    redis: RedisGuard
    """The process's one Redis client (lockouts, rate limits, read cache)."""
    files: LocalFileStore
    """The process's one content-addressed file store."""
    document_builder: DocumentBuilder
    """Renders documents from the event store (the processor, verification)."""
    read_services: ReadServices
    history: PostgresHistory
    """Histories and the tenant's trail, read from the event store."""
    access_records: AccessRecordService
    """Records reads of the past by staff (the read API's middleware)."""
    event_feed: EventFeed
    """The tenant's stored events for the HTTP feed."""
    as_of: AsOfFolds
    """Read models folded as of a version or a moment (``?as_of``)."""
    key_wrapping: KeyWrapping
    """Wraps and unwraps the per-person data keys (required outside
    development: bootstrap refuses to go on without it)."""
    _closed: bool = field(default=False, repr=False)

    def relay(self, topic: str | None = None) -> Relay:
        return Relay(
            self.settings,
            self.event_store,
            self.database,
            partial(kafka.producer, self.settings),
            topic=topic,
        )

    def runner(
        self,
        projection: TableProjection,
        topic: str | None = None,
        group: str | None = None,
    ) -> ProjectionRunner:
        """A runner of ``projection`` on ``topic`` (default: the events topic)
        in ``group`` (default: the projection's own consumer group)."""
        name = topic or self.settings.kafka_topic
        return ProjectionRunner(
            projection,
            self.database,
            lambda group_id: kafka.consumer(self.settings, group_id, name),
            name,
            group=group,
            personal=PersonalCipher(
                PostgresPersonKeys(self.database.connection, self.key_wrapping)
            ),
        )

    def projectors(
        self, topic: str | None = None, group_prefix: str | None = None
    ) -> list[ProjectionRunner]:
        """One runner per read model of the registry."""
        return [
            self.runner(
                projection,
                topic,
                f"{group_prefix}.{projection.name}" if group_prefix else None,
            )
            for projection in READ_MODELS
        ]

    def projector_host(
        self,
        topic: str | None = None,
        group: str | None = None,
        beats: Callable[[str], Callable[[], None]] | None = None,
    ) -> ProjectorHost:
        """Every read model of the registry fed by one consumer of ``topic``
        in ``group`` (default: the projector processes' shared group)."""
        name = topic or self.settings.kafka_topic
        batch = self.settings.projector_batch_records
        return ProjectorHost(
            self.projectors(topic),
            self.database,
            lambda group_id: kafka.consumer(self.settings, group_id, name, batch),
            partial(kafka.reader, self.settings, max_poll_records=batch),
            name,
            group=group or GROUP,
            beats=beats,
        )

    def expiry_runner(
        self, topic: str | None = None, group: str | None = None
    ) -> ProjectionRunner:
        """The expiry processor's own projection, on its own consumer group."""
        return self.runner(by_name(CertificateExpiryProjection.name), topic, group)

    def document_jobs_runner(
        self, topic: str | None = None, group: str | None = None
    ) -> ProjectionRunner:
        """The document processor's own projection (its list of jobs), on its
        own consumer group."""
        return self.runner(by_name(DocumentJobsProjection.name), topic, group)

    def notification_intents_runner(
        self, topic: str | None = None, group: str | None = None
    ) -> ProjectionRunner:
        """The notification processor's own projection (events that call for
        e-mails), on its own consumer group."""
        return self.runner(by_name(NotificationIntentsProjection.name), topic, group)

    def notifications(self) -> PostgresNotifications:
        """The notification processor's intents, read models and outbox."""
        return PostgresNotifications(self.database)

    def schedules(self) -> PostgresSchedules:
        """The scheduler's run records and the rows its jobs read."""
        return PostgresSchedules(self.database)

    def issued_documents(self) -> PostgresIssuedDocuments:
        """Documents by the SHA-256 of their file, across tenants (operators)."""
        return PostgresIssuedDocuments(self.database)

    def document_jobs(self, lease_seconds: float = 300.0) -> PostgresDocumentJobs:
        """The document processor's jobs, each claimed for ``lease_seconds``."""
        return PostgresDocumentJobs(self.database, lease_seconds=lease_seconds)

    def topic_partitions(self, topic: str | None = None) -> list[int]:
        """Partitions of ``topic`` as Kafka describes it (the configured count
        if Kafka cannot be asked)."""
        name = topic or self.settings.kafka_topic
        configured = list(range(self.settings.kafka_partitions))
        try:
            consumer = kafka.consumer(self.settings, "assurehub.metadata", name)
            try:
                found = consumer.partitions_for_topic(name)
            finally:
                consumer.close(autocommit=False)
        except (DependencyUnavailableError, KafkaError) as e:
            log.warning("partitions not described", extra={"error": str(e)})
            return configured
        return sorted(found) if found else configured

    def rebuilder(
        self, topic: str | None = None, ask_kafka: bool = True, split: bool = True
    ) -> Rebuilder:
        """Rebuilds projections from the event store (tracking on ``topic``,
        whose partitions Kafka describes unless ``ask_kafka`` is false; in
        one process unless ``split``)."""
        name = topic or self.settings.kafka_topic
        configured = list(range(self.settings.kafka_partitions))
        return Rebuilder(
            self.database,
            self.event_store,
            self.settings.event_source,
            name,
            (lambda: self.topic_partitions(name)) if ask_kafka else lambda: configured,
            split_from=SPLIT_FROM if split else None,
        )

    def projection_status(self, topic: str | None = None) -> list[ProjectionStatus]:
        """Progress, lag, dead letters and shape of every registered projection."""
        return projection_status(
            self.database,
            self.event_store,
            topic or self.settings.kafka_topic,
            all_projections(),
            self.settings.projection_stall_seconds,
        )

    def due_certificates(self) -> PostgresDueCertificates:
        return PostgresDueCertificates(self.database)

    def outbox(self) -> PostgresOutbox:
        """The notification outbox the mail processor drains."""
        return PostgresOutbox(self.database)

    def log_watcher(self) -> LogWatcher:
        """Re-verifies the event log's newest segments and signs checkpoints.

        Raises:
            SigningKeyError: no signing key is configured outside development.
        """
        return LogWatcher(
            self.database,
            CheckpointSigner(self.database, signing_keys(self.settings)),
            self.settings.log_checkpoint_events,
            self.settings.log_checkpoint_seconds,
            self.log_alerts(),
        )

    def log_alerts(self) -> LogAlertService:
        """Records the watcher's alerts and their resolutions as security
        events in the tenants' logs."""
        return LogAlertService(self.event_store)

    def mail_sender(self) -> MailSender:
        """How the mail processor sends (SMTP, or ``.eml`` files)."""
        return sender_from_settings(self.settings)

    def webhooks(self) -> PostgresWebhooks:
        """Webhook subscriptions and the delivery queue."""
        return PostgresWebhooks(self.database, EVENTS_TABLE)

    def webhook_sender(self) -> WebhookSender:
        """The sender of due webhook deliveries, configured from settings."""
        s = self.settings
        return WebhookSender(
            self.webhooks(),
            TargetPolicy(s.webhook_insecure_targets),
            HttpTransport(s.webhook_timeout_seconds, s.webhook_max_response_bytes),
            RetryPolicy(
                s.webhook_retry_base_seconds,
                s.webhook_retry_max_seconds,
                s.webhook_retry_window_seconds,
            ),
            lease_seconds=2 * s.webhook_timeout_seconds + 1,
            concurrency=s.webhook_concurrency,
        )

    def webhook_fanout(
        self,
        on_enqueued: Callable[[], None],
        topic: str | None = None,
        group: str = GROUP_ID,
    ) -> WebhookFanout:
        """The consumer that turns the events topic into webhook deliveries."""
        name = topic or self.settings.kafka_topic
        return WebhookFanout(
            self.database,
            lambda group_id: kafka.consumer(self.settings, group_id, name),
            name,
            on_enqueued,
            group,
        )

    def metrics_server(self) -> MetricsServer:
        """This process's metrics thread (not started): it samples the pool
        and serves ``GET /metrics`` when it holds the metrics port."""
        state = StateCollector(
            self.database,
            self.event_store,
            self.settings.kafka_topic,
            all_projections(),
            self.outbox().backlog,
        )
        return MetricsServer(
            self.settings.metrics_host,
            self.settings.metrics_port,
            state,
            self.database.stats,
        )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.event_store.close()
            self.database.close()
            self.redis.close()


def bootstrap(settings: Settings) -> Container:
    """Wire the application for ``settings``."""
    configure_metrics(settings.metrics_dir)
    key_wrapping = KeyWrapping.from_settings(settings)
    database = Database.from_settings(settings)
    event_store = LibraryEventStore(postgres_env(settings))
    calendar = TenantCalendar(event_store)
    redis = RedisGuard(
        settings.redis_url,
        timeout=settings.redis_timeout_seconds,
        pause=settings.redis_pause_seconds,
    )
    files = LocalFileStore(settings.media_dir)
    identity = _identity(settings, database, event_store, redis)
    return Container(
        settings=settings,
        database=database,
        event_store=event_store,
        services=Services(
            organizations=OrganizationService(event_store),
            standard_templates=StandardTemplateService(event_store),
            document_templates=DocumentTemplateService(event_store),
            audits=AuditService(event_store),
            evidence=EvidenceService(event_store, files, settings.upload_max_bytes),
            certificates=CertificateService(
                event_store, PostgresCertificateNumbers(database)
            ),
            documents=DocumentService(event_store, files),
            tenant_settings=TenantSettingsService(event_store, calendar),
            calendar=calendar,
            tenants=identity.tenants,
            accounts=identity.accounts,
            sessions=identity.sessions,
            mfa=identity.mfa,
            api_tokens=identity.api_tokens,
            notification_preferences=NotificationPreferencesService(
                PostgresPreferences(database)
            ),
            webhooks=WebhookService(
                PostgresWebhooks(database, EVENTS_TABLE),
                TargetPolicy(settings.webhook_insecure_targets),
                mint_secret,
                PUBLIC_TYPES,
                settings.webhook_secret_grace_seconds,
            ),
        ),
        organization_view=PostgresOrganizationView(database),
        progress=ProjectionProgress(database, settings.kafka_topic),
        authenticator=identity.authenticator,
        health=HealthCheck(settings, database),
        identity_directory=identity.directory,
        attempt_limits=AuthAttemptLimits(
            RateLimiter(redis), settings.auth_attempts_per_minute
        ),
        redis=redis,
        files=files,
        document_builder=DocumentBuilder(event_store, settings.public_base_url),
        read_services=_read_services(settings, database, redis, files),
        history=PostgresHistory(database, event_store, settings.event_source),
        access_records=AccessRecordService(event_store),
        event_feed=EventFeed(database, event_store, settings.event_source),
        as_of=AsOfFolds(
            event_store, StoredEnvelopes(event_store, settings.event_source)
        ),
        key_wrapping=key_wrapping,
    )


@dataclass
class _Identity:
    tenants: TenantService
    accounts: AccountService
    sessions: SessionService
    mfa: MfaService
    api_tokens: ApiTokenService
    directory: PostgresIdentityDirectory
    authenticator: Authenticator


def _mfa_required(store: EventStore, key: tuple[str, frozenset[Role]]) -> bool:
    tenant_id, roles = key
    settings = store.load(TenantSettings, settings_id(tenant_id))
    return settings is not None and settings.mfa_required(roles)


def _identity(
    settings: Settings, database: Database, store: EventStore, redis: RedisGuard
) -> _Identity:
    """Identity services, the directory and the authenticator."""
    clock = SystemClock()
    opaque = OpaqueSecrets()
    guard = LoginGuard(redis, LockoutPolicy.from_settings(settings))
    directory = PostgresIdentityDirectory(database)
    access = AccessTokens(
        identity_key(settings, "jwt_signing_key"),
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_ttl_seconds,
    )
    totp = SecurityTotp(totp_secrets(settings), Totp())
    recovery = HmacRecoveryCodes(
        RecoveryCodes(identity_key(settings, "recovery_code_key"))
    )
    passwords = SecurityPasswords(PasswordHasher(), PasswordPolicy())
    base = settings.public_base_url
    invitation_ttl = timedelta(hours=settings.invitation_ttl_hours)
    tokens = TokenAuthenticator(
        access,
        directory,
        TtlCache(PostgresAuditTeams(database).audits_of, ttl=TEAM_TTL_SECONDS),
        TokenThrottle(RateLimiter(redis), settings.api_requests_per_minute),
        TtlCache(partial(_mfa_required, store), ttl=MFA_POLICY_TTL_SECONDS),
    )
    authenticator: Authenticator = (
        DevelopmentAuthenticator(tokens) if settings.dev_headers else tokens
    )
    return _Identity(
        tenants=TenantService(store, opaque, clock, base, invitation_ttl),
        accounts=AccountService(
            store,
            directory,
            passwords,
            opaque,
            clock,
            base,
            invitation_ttl,
            timedelta(minutes=settings.password_reset_ttl_minutes),
            guard=guard,
        ),
        sessions=SessionService(
            store,
            directory,
            passwords,
            opaque,
            JwtIssuer(access),
            totp,
            recovery,
            guard,
            clock,
            refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
        ),
        mfa=MfaService(
            store, directory, totp, recovery, guard, clock, settings.totp_issuer
        ),
        api_tokens=ApiTokenService(store, directory, opaque, clock),
        directory=directory,
        authenticator=authenticator,
    )


def _read_services(
    settings: Settings, database: Database, redis: RedisGuard, files: LocalFileStore
) -> ReadServices:
    """The read side's cached views and limits."""
    cache = ReadCache(
        redis,
        ProgressWatermark(database, settings.kafka_topic),
        ttl=settings.cache_ttl_seconds,
    )
    return ReadServices(
        dashboard=CachedDashboardView(
            PostgresDashboardView(database, settings.kafka_topic), cache
        ),
        verification=CachedVerificationView(PostgresVerificationView(database), cache),
        verification_limits=VerificationLimits(
            RateLimiter(redis),
            per_address=settings.verify_attempts_per_minute,
            per_number=settings.verify_attempts_per_number_hour,
        ),
        files=files,
    )
