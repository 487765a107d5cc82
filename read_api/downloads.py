"""Files from the content-addressed file store, streamed as downloads.

Evidence and generated documents are answered the same way: the bytes are
read in chunks on a worker thread (never held whole), with their media type,
``Content-Length``, ``ETag`` = their SHA-256, ``nosniff`` and a
``Content-Disposition`` naming the file as a person would keep it. The name
is sent twice (RFC 6266): ``filename=`` an ASCII stand-in every client
understands, and ``filename*=UTF-8''…`` (RFC 5987) with the name as it is,
which clients that know it (all current browsers) prefer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from commands.ports import FileStore
from domain.errors import NotFoundError

CHUNK_BYTES = 64 * 1024


async def download(
    files: FileStore,
    sha256: str,
    *,
    media_type: str,
    size: int,
    file_name: str,
    missing: NotFoundError,
) -> StreamingResponse:
    """The stored file ``sha256`` as an attachment called ``file_name``.

    Raises:
        NotFoundError: ``missing``, when the file store lacks the file.
    """
    try:
        stream = await run_in_threadpool(files.open, sha256)
    except FileNotFoundError as e:
        raise missing from e
    return StreamingResponse(
        iterate_in_threadpool(_chunks(stream)),
        media_type=media_type,
        headers={
            "ETag": f'"{sha256}"',
            "Content-Length": str(size),
            "Content-Disposition": content_disposition(file_name),
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, when the name is not
    plain ASCII, the exact name as ``filename*``."""
    fallback = ascii_file_name(file_name)
    if fallback == file_name:
        return f'attachment; filename="{fallback}"'
    exact = quote(file_name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"


def ascii_file_name(file_name: str) -> str:
    """The name in printable ASCII for a quoted header value: accents
    dropped (``Zürich`` → ``Zurich``), anything else left (``Ł``, ``"``,
    ``\\``, controls) as ``_``."""
    decomposed = unicodedata.normalize("NFKD", file_name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in plain
    )


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk
