"""The composition root: builds every adapter and service from settings.

Nothing connects at import time; pools open on first use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from kafka.errors import KafkaError

from commands.audits import AuditService
from commands.certificates import CertificateService
from commands.document_templates import DocumentTemplateService
from commands.evidence import EvidenceService
from commands.http.edge import Authenticator
from commands.identity.accounts import AccountService
from commands.identity.api_tokens import ApiTokenService
from commands.identity.mfa import MfaService
from commands.identity.sessions import SessionService
from commands.identity.tenants import TenantService
from commands.organizations import OrganizationService
from commands.standard_templates import StandardTemplateService
from commands.tenant_settings import TenantCalendar, TenantSettingsService
from infra.cache.redis import RedisGuard
from infra.errors import DependencyUnavailableError
from infra.eventstore.store import LibraryEventStore, postgres_env
from infra.files import LocalFileStore
from infra.health import HealthCheck
from infra.identity.rate_limit import AuthAttemptLimits
from infra.identity.wiring import build_identity
from infra.postgres.certificate_expiry import PostgresDueCertificates
from infra.postgres.certificate_numbers import PostgresCertificateNumbers
from infra.postgres.identity import PostgresIdentityDirectory
from infra.postgres.organizations import PostgresOrganizationView
from infra.postgres.pool import Database
from infra.postgres.progress import ProjectionProgress
from infra.postgres.projection_status import ProjectionStatus, projection_status
from infra.projection.rebuild import Rebuilder
from infra.projection.registry import PROCESSOR_MODELS, READ_MODELS, all_projections
from infra.projection.runner import ProjectionRunner
from infra.settings import Settings
from infra.streaming import kafka
from infra.streaming.relay import Relay
from projections.ports import TableProjection

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The command services routes call (``app.state.services``)."""

    organizations: OrganizationService
    standard_templates: StandardTemplateService
    document_templates: DocumentTemplateService
    audits: AuditService
    evidence: EvidenceService
    certificates: CertificateService
    tenant_settings: TenantSettingsService
    calendar: TenantCalendar
    tenants: TenantService
    accounts: AccountService
    sessions: SessionService
    mfa: MfaService
    api_tokens: ApiTokenService


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

    def expiry_runner(
        self, topic: str | None = None, group: str | None = None
    ) -> ProjectionRunner:
        """The expiry processor's own projection, on its own consumer group."""
        (expiry,) = PROCESSOR_MODELS
        return self.runner(expiry, topic, group)

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

    def rebuilder(self, topic: str | None = None, ask_kafka: bool = True) -> Rebuilder:
        """Rebuilds projections from the event store (tracking on ``topic``,
        whose partitions Kafka describes unless ``ask_kafka`` is false)."""
        name = topic or self.settings.kafka_topic
        configured = list(range(self.settings.kafka_partitions))
        return Rebuilder(
            self.database,
            self.event_store,
            self.settings.event_source,
            name,
            (lambda: self.topic_partitions(name)) if ask_kafka else lambda: configured,
        )

    def projection_status(self, topic: str | None = None) -> list[ProjectionStatus]:
        """Progress, lag, dead letters and shape of every registered projection."""
        return projection_status(
            self.database,
            self.event_store,
            topic or self.settings.kafka_topic,
            all_projections(),
        )

    def due_certificates(self) -> PostgresDueCertificates:
        return PostgresDueCertificates(self.database)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.event_store.close()
            self.database.close()
            self.redis.close()


def bootstrap(settings: Settings) -> Container:
    """Wire the application for ``settings``."""
    database = Database.from_settings(settings)
    event_store = LibraryEventStore(postgres_env(settings))
    calendar = TenantCalendar(event_store)
    identity = build_identity(settings, database, event_store)
    return Container(
        settings=settings,
        database=database,
        event_store=event_store,
        services=Services(
            organizations=OrganizationService(event_store),
            standard_templates=StandardTemplateService(event_store),
            document_templates=DocumentTemplateService(event_store),
            audits=AuditService(event_store),
            evidence=EvidenceService(
                event_store,
                LocalFileStore(settings.media_dir),
                settings.upload_max_bytes,
            ),
            certificates=CertificateService(
                event_store, PostgresCertificateNumbers(database)
            ),
            tenant_settings=TenantSettingsService(event_store, calendar),
            calendar=calendar,
            tenants=identity.tenants,
            accounts=identity.accounts,
            sessions=identity.sessions,
            mfa=identity.mfa,
            api_tokens=identity.api_tokens,
        ),
        organization_view=PostgresOrganizationView(database),
        progress=ProjectionProgress(database, settings.kafka_topic),
        authenticator=identity.authenticator,
        health=HealthCheck(settings, database),
        identity_directory=identity.directory,
        attempt_limits=identity.attempt_limits,
        redis=identity.redis,
    )
