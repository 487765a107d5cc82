"""The one ASGI app factory: query and command routes, problems, docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from commands.http import accounts as account_commands
from commands.http import api_tokens as api_token_commands
from commands.http import audits as audit_commands
from commands.http import auth, platform
from commands.http import certificates as certificate_commands
from commands.http import document_templates as document_template_commands
from commands.http import documents as document_commands
from commands.http import evidence as evidence_commands
from commands.http import me as me_commands
from commands.http import notification_preferences as notification_preference_commands
from commands.http import organizations as organization_commands
from commands.http import standard_templates as standard_template_commands
from commands.http import tenant_settings as tenant_setting_commands
from commands.http import webhooks as webhook_commands
from infra.bootstrap import Container
from infra.metrics.server import forget_process
from infra.projection.progress_watcher import ProgressWatcher
from read_api import (
    api_tokens,
    dashboard,
    document_verification,
    event_log,
    events,
    health,
    history,
    history_diff,
    me,
    notifications,
    security_events,
    tenant_settings,
    users,
    verification,
    verification_on_date,
    webhooks,
)
from read_api import audits as audit_queries
from read_api import certificates as certificate_queries
from read_api import documents as document_queries
from read_api import organizations as organization_queries
from read_api import templates as template_queries
from read_api.access_recording import AccessRecordingMiddleware
from read_api.asyncapi import install_asyncapi
from read_api.docs import install_docs
from read_api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from read_api.openapi_errors import document_errors
from read_api.openapi_examples import keep_answer_examples
from read_api.permissions import declare_permissions
from read_api.problems import install_problem_handlers

_MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart framing and form fields around an upload."""


ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    me_commands.router,
    platform.router,
    account_commands.router,
    api_token_commands.router,
    organization_commands.router,
    standard_template_commands.router,
    document_template_commands.router,
    audit_commands.router,
    certificate_commands.router,
    evidence_commands.router,
    document_commands.router,
    tenant_setting_commands.router,
    webhook_commands.router,
    me.router,
    api_tokens.router,
    tenant_settings.router,
    organization_queries.router,
    template_queries.router,
    audit_queries.router,
    history_diff.router,
    verification_on_date.router,
    certificate_queries.router,
    document_queries.router,
    document_verification.router,
    users.router,
    security_events.router,
    event_log.router,
    events.router,
    webhooks.router,
    dashboard.router,
    history.router,
    verification.router,
    health.router,
    notification_preference_commands.router,
    notifications.router,
)
"""Every router the API serves, commands first."""


def create_app(container: Container) -> FastAPI:
    """Build the HTTP API around an already wired container."""
    progress_watcher = ProgressWatcher(container.progress)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        metrics = container.metrics_server()
        metrics.start()
        try:
            yield
        finally:
            metrics.close()
            forget_process()  # this worker's live gauges leave the sums
            await progress_watcher.close()
            container.redis.close()

    app = FastAPI(
        title="AssureHub",
        version="0.1.0",
        description="Audits and certificates: commands and queries.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.services = container.services
    app.state.authenticator = container.authenticator
    app.state.attempt_limits = container.attempt_limits
    app.state.read_services = container.read_services
    app.state.progress_watcher = progress_watcher
    declare_permissions(ROUTERS)
    for router in ROUTERS:
        app.include_router(router)
    install_docs(app)
    install_asyncapi(app)
    document_errors(app)
    keep_answer_examples(app)
    install_problem_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=container.settings.max_body_bytes,
        upload_max_bytes=container.settings.upload_max_bytes + _MULTIPART_OVERHEAD,
    )
    app.add_middleware(AccessRecordingMiddleware, service=container.access_records)
    app.add_middleware(RequestIdMiddleware)
    return app
