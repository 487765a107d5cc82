"""Event ids stay what consumers already hold: ``uuid5`` of aggregate and version."""

from __future__ import annotations

from uuid import UUID, uuid5

from hypothesis import given, settings
from hypothesis import strategies as st

from infra.streaming.public_events import event_id

# The namespace every published ``ce_id`` was derived from; never change it.
NAMESPACE = UUID("5d0c2a36-6b8f-4a56-9f0e-2b1b7c0a9e41")


def test_an_event_id_is_pinned():
    aggregate = UUID("0b8f5a8e-1c39-4d43-9d1f-6f0a1c2b3d4e")
    assert event_id(aggregate, 7) == str(uuid5(NAMESPACE, f"{aggregate}:7"))


@settings(max_examples=300, deadline=None)
@given(aggregate=st.uuids(), version=st.integers(min_value=1, max_value=2**63 - 1))
def test_every_event_id_is_the_uuid5_of_aggregate_and_version(aggregate, version):
    expected = uuid5(NAMESPACE, f"{aggregate}:{version}")
    got = event_id(aggregate, version)
    assert got == str(expected)
    assert UUID(got).version == 5
