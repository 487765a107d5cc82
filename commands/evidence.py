"""Commands on evidence: uploading a file for an audit or a finding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from commands.audit_scope import may_see_audit
from commands.context import Accepted, CommandContext
from commands.handling import AggregateHandler
from commands.ports import EventStore, FileStore
from domain.access import Permission, authorize
from domain.audit import Audit
from domain.errors import NotFoundError
from domain.evidence import Evidence


@dataclass(frozen=True)
class UploadEvidence:
    audit_id: UUID
    file_name: str
    content: BinaryIO
    finding_id: UUID | None = None


@dataclass(frozen=True)
class EvidenceAccepted(Accepted):
    sha256: str
    size: int
    media_type: str


class EvidenceService:
    """Stores evidence bytes content-addressed, then records the upload."""

    def __init__(self, store: EventStore, files: FileStore, max_bytes: int) -> None:
        self._handler = AggregateHandler(store)
        self._files = files
        self._max_bytes = max_bytes

    def upload(self, ctx: CommandContext, cmd: UploadEvidence) -> EvidenceAccepted:
        """Attach a file to an audit of the caller's tenant (or one of its
        findings). The same bytes are stored once; each upload is recorded.

        Raises:
            NotFoundError: no such audit (or outside the caller's
                organization and audit scopes), or no such finding on it.
            FileTooLargeError: over the configured size.
            UnsupportedMediaTypeError: not an allowed type (nothing recorded).
        """
        authorize(ctx.principal, Permission.EVIDENCE_UPLOAD)
        audit = self._handler.load(ctx, Audit, cmd.audit_id)
        if not may_see_audit(ctx.principal, audit):
            raise NotFoundError("audit", cmd.audit_id)
        if cmd.finding_id is not None and cmd.finding_id not in audit.findings:
            raise NotFoundError("finding", cmd.finding_id)
        replay = self._handler.replay(ctx)
        if replay is None:
            stored = self._files.put(cmd.content, self._max_bytes)
            evidence = Evidence.upload(
                ctx.meta(),
                audit.id,
                cmd.finding_id,
                cmd.file_name,
                stored.size,
                stored.head,
                stored.sha256,
            )
            replay = self._handler.commit(ctx, evidence, outcome=evidence.media_type)
            return EvidenceAccepted(
                *_fields(replay[0]), evidence.sha256, evidence.size, evidence.media_type
            )
        loaded = self._handler.load(ctx, Evidence, replay[0].id)
        return EvidenceAccepted(
            *_fields(replay[0]), loaded.sha256, loaded.size, loaded.media_type
        )


def _fields(accepted: Accepted) -> tuple[UUID, int, int]:
    return accepted.id, accepted.version, accepted.position
