"""Erasure by crypto-shredding, in memory: personal fields are stored sealed,
loading opens them, the public JSON carries them sealed, and erasing a person
(refused under a legal hold) makes every reader see ``[erased]`` while the
stored bytes stay exactly as they were."""

from __future__ import annotations

from uuid import uuid4

import pytest

from commands.identity.accounts import Invite
from domain.account import Account
from domain.errors import RuleViolationError
from domain.personal import ERASED
from domain.principal import Role
from infra.erasure.memory import MemoryPersonKeys
from infra.erasure.sealing import PersonalCipher, is_sealed, open_with, seal_with
from infra.projection.memory_fold import MemoryFold
from infra.streaming.public_events import personal_view, to_envelope
from projections.accounts import ACCOUNTS, AccountsProjection
from projections.security_events import SECURITY_EVENTS, SecurityEventsProjection
from tests.unit.test_identity_world import TENANT, World

EMAIL = "rita@example.com"


@pytest.fixture
def world():
    return World()


@pytest.fixture
def admin(world):
    return world.create_tenant()


def stored_bytes(world: World) -> list[bytes]:
    return [bytes(s.state) for s in world.store.read_after(0, 10_000)]


def envelopes(world: World, *, reveal: bool):
    personal = world.store.personal
    return [
        personal_view(
            to_envelope(world.store.decode(s), s.id, "/t"), personal, reveal=reveal
        )
        for s in world.store.read_after(0, 10_000)
    ]


def fold(world: World, projection) -> MemoryFold:
    folded = MemoryFold(projection)
    for envelope in envelopes(world, reveal=True):
        folded.apply(envelope)
    return folded


def test_a_sealed_value_opens_only_with_its_key_tenant_and_person():
    key, person = b"k" * 32, uuid4()
    token = seal_with(key, TENANT, person, "Rita")

    assert is_sealed(token)
    assert "Rita" not in token
    assert open_with(key, TENANT, person, token) == "Rita"
    for args in (
        (b"x" * 32, TENANT, person),
        (key, "other", person),
        (key, TENANT, uuid4()),
    ):
        with pytest.raises(ValueError, match="does not open"):
            open_with(*args, token)


def test_a_destroyed_key_is_never_made_again():
    keys, person = MemoryPersonKeys(), uuid4()
    values = {"email": EMAIL}
    PersonalCipher(keys).seal(TENANT, person, values)
    keys.destroy(TENANT, person)

    again = {"email": EMAIL}
    PersonalCipher(keys).seal(TENANT, person, again)
    PersonalCipher(keys).open(TENANT, person, values)
    assert (values, again) == ({"email": ERASED}, {"email": ERASED})
    assert keys.keys(TENANT, [person]) == {person: None}


def test_a_key_kept_for_sealing_after_its_erasure_seals_what_nobody_opens():
    keys, person = MemoryPersonKeys(), uuid4()
    cipher = PersonalCipher(keys)
    cipher.seal(TENANT, person, {"email": EMAIL})  # the key is kept from here
    keys.destroy(TENANT, person)

    late = {"email": EMAIL}
    cipher.seal(TENANT, person, late)
    assert is_sealed(late["email"])
    cipher.open(TENANT, person, late)
    assert late == {"email": ERASED}


def test_personal_fields_are_stored_sealed_and_loaded_open(world, admin):
    rita = world.active_user(admin)
    world.login(address="203.0.113.9")

    assert not any(
        EMAIL.encode() in b or b"203.0.113.9" in b for b in stored_bytes(world)
    )
    account = world.store.load(Account, rita)
    assert (account.email, account.name) == (EMAIL, "Rita")
    [login] = world.events("account.login_succeeded")
    assert login.address == "203.0.113.9"


def test_the_public_json_carries_tokens_and_opens_for_those_allowed(world, admin):
    rita = world.active_user(admin)
    sealed = [e for e in envelopes(world, reveal=False) if e.subject == str(rita)]
    opened = [e for e in envelopes(world, reveal=True) if e.subject == str(rita)]

    assert is_sealed(sealed[0].data["email"])
    assert is_sealed(sealed[0].data["name"])
    assert (opened[0].data["email"], opened[0].data["name"]) == (EMAIL, "Rita")
    assert sealed[0].data["roles"] == opened[0].data["roles"] == ["auditor"]


def test_erasing_makes_every_reader_see_erased_and_keeps_the_stored_bytes(world, admin):
    rita = world.active_user(admin)
    world.login(address="203.0.113.9")
    before = stored_bytes(world)

    world.accounts.erase(world.ctx_of(admin), rita)

    after = stored_bytes(world)
    assert after[: len(before)] == before  # reading and erasing rewrite nothing
    account = world.store.load(Account, rita)
    assert (account.email, account.name, account.status.value) == (
        ERASED,
        ERASED,
        "deactivated",
    )
    for reveal in (False, True):
        for e in envelopes(world, reveal=reveal):
            if e.subject == str(rita):
                assert EMAIL not in repr(e.data)
                assert "Rita" not in repr(e.data)
    [erased] = [
        e for e in envelopes(world, reveal=False) if e.type.endswith("erased.v1")
    ]
    assert erased.data == {}


def test_read_models_rebuilt_after_an_erasure_show_the_erased_view(world, admin):
    rita = world.active_user(admin)
    world.login(address="203.0.113.9")
    world.accounts.erase(world.ctx_of(admin), rita)

    accounts = fold(world, AccountsProjection())
    row = accounts.memory.get(ACCOUNTS.name, (TENANT, rita))
    assert row is not None
    assert (row["email"], row["name"], row["status"]) == (ERASED, ERASED, "deactivated")
    security = fold(world, SecurityEventsProjection())
    addresses = {
        r["address"]
        for r in security.memory.find(SECURITY_EVENTS.name, {"tenant_id": TENANT})
        if r["subject_id"] == rita
    }
    assert addresses == {None, ERASED}


def test_the_erasure_event_updates_a_live_read_model(world, admin):
    rita = world.active_user(admin)
    world.login(address="203.0.113.9")
    live = fold(world, AccountsProjection())  # built before the erasure
    security = fold(world, SecurityEventsProjection())
    seen = len(world.store.read_after(0, 10_000))

    world.accounts.erase(world.ctx_of(admin), rita)
    for envelope in envelopes(world, reveal=True)[seen:]:
        live.apply(envelope)
        security.apply(envelope)

    row = live.memory.get(ACCOUNTS.name, (TENANT, rita))
    assert row is not None
    assert (row["email"], row["name"]) == (ERASED, ERASED)
    rows = security.memory.find(SECURITY_EVENTS.name, {"tenant_id": TENANT})
    assert "203.0.113.9" not in {r["address"] for r in rows}


def test_erasure_blanks_the_outbox_frees_the_email_and_ends_the_account(world, admin):
    rita = world.active_user(admin)
    world.accounts.erase(world.ctx_of(admin), rita)

    assert not [m for m in world.directory.outbox if EMAIL in m.recipient + m.body]
    assert world.directory.account_by_email(TENANT, EMAIL) is None
    again = world.accounts.invite(
        world.ctx_of(admin), Invite(EMAIL, "Rita", {Role.AUDITOR})
    )
    assert again.id != rita
    with pytest.raises(RuleViolationError) as refused:
        world.accounts.reactivate(world.ctx_of(admin), rita)
    assert refused.value.rule == "account.erased"


def test_a_legal_hold_refuses_the_erasure_until_cleared(world, admin):
    rita = world.active_user(admin)
    world.accounts.set_legal_hold(world.ctx_of(admin), rita, "Dispute 2026-114")

    with pytest.raises(RuleViolationError) as refused:
        world.accounts.erase(world.ctx_of(admin), rita)
    assert refused.value.rule == "account.legal_hold"
    assert world.store.load(Account, rita).email == EMAIL

    world.accounts.clear_legal_hold(world.ctx_of(admin), rita)
    world.accounts.erase(world.ctx_of(admin), rita)
    kinds = [type(e).__name__ for e in world.events()]
    assert kinds[-2:] == ["LegalHoldCleared", "Erased"]
    assert world.store.load(Account, rita).erased


def test_nobody_erases_themselves_and_an_erasure_happens_once(world, admin):
    rita = world.active_user(admin)
    with pytest.raises(RuleViolationError) as own:
        world.accounts.erase(world.ctx_of(admin), admin)
    assert own.value.rule == "account.cannot_erase_self"

    world.accounts.erase(world.ctx_of(admin), rita)
    with pytest.raises(RuleViolationError) as twice:
        world.accounts.erase(world.ctx_of(admin), rita)
    assert twice.value.rule == "account.erased"


def test_plain_values_stored_before_sealing_stay_readable_and_publish_sealed(
    world, admin
):
    world.store.app.sealing_mapper.personal = None  # a store from before sealing
    rita = world.active_user(admin)
    world.store.app.sealing_mapper.personal = PersonalCipher(
        world.store.app.recorder.person_keys
    )

    assert any(EMAIL.encode() in b for b in stored_bytes(world))  # the known limit
    assert world.store.load(Account, rita).email == EMAIL
    [invited] = [e for e in envelopes(world, reveal=False) if e.subject == str(rita)][
        :1
    ]
    assert is_sealed(invited.data["email"])
    world.accounts.erase(world.ctx_of(admin), rita)
    [invited] = [e for e in envelopes(world, reveal=False) if e.subject == str(rita)][
        :1
    ]
    assert invited.data["email"] == ERASED
