"""``assurehub documents verify FILE [--document ID]``: is this file a
document that was issued, byte for byte?

Without ``--document`` the file's SHA-256 is looked up among the documents
issued (every tenant: an operator's tool); with it, the file is compared with
that document. Either way the document is rendered again from the event
store at the versions its request recorded, to show that the issued file is
what those sources give.

Exit status: 0 the file is an issued document and renders again to the same
bytes; 1 it is not (no document was issued as this file, or it differs from
the one named); 2 the document named is unknown, or a setting it needs is
missing (the person key wrapping keys that open the names in a report: one
line names it, see :mod:`processors.setting_refusals`); 3 it is the file issued,
but rendering the recorded versions now gives other bytes (the public base
URL or the rendering libraries changed since).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.errors import NotFoundError
from infra.document_builds import CopyVerdict, DocumentBuilder
from infra.postgres.issued_documents import PostgresIssuedDocuments

_CHUNK = 1 << 16


def add_documents_parser(sub: Any) -> None:
    """The ``documents`` command and its ``verify`` verb."""
    d = sub.add_parser("documents", help="check copies of issued documents")
    verbs = d.add_subparsers(dest="verb", required=True)
    v = verbs.add_parser("verify", help="is FILE, byte for byte, a document issued?")
    v.add_argument("file", type=Path, help="the file to check")
    v.add_argument("--document", type=UUID, metavar="ID", help="compare with this one")


def verify_file(
    args: argparse.Namespace,
    builder: DocumentBuilder,
    issued: PostgresIssuedDocuments,
) -> int:
    """``assurehub documents verify``; prints the verdict, returns the status."""
    path: Path = args.file
    digest = _sha256(path)
    print(f"file {path}: SHA-256 {digest}")
    if args.document is not None:
        candidates = [args.document]
    else:
        candidates = [document for _, document in issued.with_sha256(digest)]
        if not candidates:
            print("not issued: no document was issued as this file")
            return 1
    statuses = []
    for document_id in candidates:
        try:
            with path.open("rb") as copy:
                verdict = builder.verify_copy(document_id, copy)
        except NotFoundError:
            print(f"document {document_id}: unknown", file=sys.stderr)
            return 2
        statuses.append(_report(document_id, verdict))
    return min(statuses)


def _report(document_id: UUID, verdict: CopyVerdict) -> int:
    recorded = verdict.recorded_sha256 or "none (the document is not ready)"
    print(f"document {document_id}: issued as {recorded}")
    if verdict.build_error is not None:
        print(f"  rendered again: failed ({verdict.build_error})")
    elif verdict.rendered_sha256 is not None:
        print(f"  rendered again from the recorded versions: {verdict.rendered_sha256}")
    if not verdict.issued:
        print("  NOT the file issued")
        return 1
    if not verdict.reproduced:
        print("  the file issued, but the recorded versions now render other bytes")
        return 3
    print("  the file issued, byte for byte; its sources render it again identically")
    return 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
