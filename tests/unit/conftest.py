"""Fixtures of the unit tests of documents built from the event store: the
in-memory event store, a file store in a temporary folder, the document
commands over them, and a tenant's records to request documents of."""

from __future__ import annotations

import pytest

from commands.documents import DocumentService
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.files import LocalFileStore
from tests.document_scene import DocumentScene, new_tenant


@pytest.fixture
def memory_store() -> LibraryEventStore:
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def media(tmp_path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "media")


@pytest.fixture
def document_service(memory_store, media) -> DocumentService:
    return DocumentService(memory_store, media)


@pytest.fixture
def document_scene(memory_store) -> DocumentScene:
    scene = DocumentScene(new_tenant())
    scene.record(memory_store)
    return scene
