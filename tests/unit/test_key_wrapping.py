"""Per-person data keys wrapped with a key-encryption key: the stored bytes
hold no key, a stored key opens only on its own row and with its own
wrapping key, rotation keeps older keys readable, and keys stored in the
clear before wrapping existed keep working."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from pydantic import SecretStr

from infra.erasure.wrapping import KeyWrapping, StoredKey, WrappingKeyError
from infra.settings import Settings

OLD, NEW = ("k1", os.urandom(32)), ("k2", os.urandom(32))


def test_a_wrapped_key_is_not_the_key_and_unwraps_to_it():
    wrapping, person, key = KeyWrapping([OLD]), uuid.uuid4(), os.urandom(32)
    stored = wrapping.wrap("acme", person, key)
    assert stored.wrapping_key_id == "k1"
    assert len(stored.data) == 60
    assert key not in stored.data
    assert wrapping.unwrap("acme", person, stored) == key
    assert wrapping.wrap("acme", person, key).data != stored.data  # fresh nonce


@pytest.mark.parametrize("row", ["another person", "another tenant", "altered"])
def test_a_wrapped_key_opens_only_on_its_own_row(row):
    wrapping, person = KeyWrapping([OLD]), uuid.uuid4()
    stored = wrapping.wrap("acme", person, os.urandom(32))
    tenant = "other" if row == "another tenant" else "acme"
    if row == "another person":
        person = uuid.uuid4()
    if row == "altered":
        stored = StoredKey(stored.data[:-1] + bytes([stored.data[-1] ^ 1]), "k1")
    with pytest.raises(WrappingKeyError, match="does not open"):
        wrapping.unwrap(tenant, person, stored)


def test_without_its_wrapping_key_a_stored_key_does_not_open():
    person = uuid.uuid4()
    stored = KeyWrapping([OLD]).wrap("acme", person, os.urandom(32))
    with pytest.raises(WrappingKeyError, match="wrapped with k1"):
        KeyWrapping([NEW]).unwrap("acme", person, stored)
    with pytest.raises(WrappingKeyError, match="wrapped with k1"):
        KeyWrapping([]).unwrap("acme", person, stored)


def test_after_rotation_the_new_key_wraps_and_the_old_one_still_unwraps():
    person, key = uuid.uuid4(), os.urandom(32)
    before = KeyWrapping([OLD]).wrap("acme", person, key)
    rotated = KeyWrapping([NEW, OLD])
    assert rotated.unwrap("acme", person, before) == key
    assert not rotated.is_current(before)
    after = rotated.wrap("acme", person, key)
    assert after.wrapping_key_id == "k2"
    assert rotated.is_current(after)
    assert KeyWrapping([NEW]).unwrap("acme", person, after) == key


def test_a_key_stored_in_the_clear_reads_as_it_is():
    key = os.urandom(32)
    legacy = StoredKey(key, None)
    assert KeyWrapping([OLD]).unwrap("acme", uuid.uuid4(), legacy) == key
    assert KeyWrapping([]).wrap("acme", uuid.uuid4(), key) == legacy


def settings(env: str, keys: str | None) -> Settings:
    return Settings(
        env=env,
        database_url="postgresql://u:p@127.0.0.1:5432/db",
        person_key_wrapping_keys=None if keys is None else SecretStr(keys),
    )


def test_the_setting_names_the_keys_in_order():
    text = f"{NEW[0]}:{NEW[1].hex()},{OLD[0]}:{OLD[1].hex()}"
    wrapping = KeyWrapping.from_settings(settings("production", text))
    assert wrapping.current == "k2"
    person, key = uuid.uuid4(), os.urandom(32)
    stored = KeyWrapping([OLD]).wrap("acme", person, key)
    assert wrapping.unwrap("acme", person, stored) == key
    with pytest.raises(ValueError, match="PERSON_KEY_WRAPPING_KEYS"):
        settings("production", "k1:abcd").person_key_wrapping()


def test_a_wrapping_key_is_required_outside_development(caplog):
    with pytest.raises(WrappingKeyError, match="required outside development"):
        KeyWrapping.from_settings(settings("production", None))
    with caplog.at_level(logging.WARNING):
        wrapping = KeyWrapping.from_settings(settings("development", None))
    assert wrapping.current is None
    assert "stored in the clear" in caplog.text
