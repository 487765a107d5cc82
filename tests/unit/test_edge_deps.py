"""Each typed service dependency hands a route the service its type names."""

from __future__ import annotations

import asyncio
import typing
from types import SimpleNamespace
from unittest.mock import MagicMock

from commands.findings import FindingService
from commands.http import deps
from commands.services import Services


def services() -> Services:
    made = {
        name: MagicMock(spec=kind)
        for name, kind in typing.get_type_hints(Services).items()
    }
    made["audits"].findings = MagicMock(spec=FindingService)
    return Services(**made)


def test_every_service_dependency_gives_the_service_its_annotation_names():
    request = SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(services=services()))
    )
    kinds = []
    for name in dir(deps):
        if not name.endswith("ServiceDep"):
            continue
        kind, depends = typing.get_args(getattr(deps, name))
        assert isinstance(asyncio.run(depends.dependency(request)), kind), name
        kinds.append(kind)
    served = set(typing.get_type_hints(Services).values()) - {
        typing.get_type_hints(Services)["calendar"]
    }
    assert set(kinds) == served | {FindingService}
