"""Password hashing and the strength policy: what gets in, what is refused."""

from __future__ import annotations

import argon2
import pytest

from infra.identity.security.passwords import (
    MAX_LENGTH,
    PasswordHasher,
    PasswordPolicy,
    WeakPasswordError,
    bundled_common_passwords,
)

CHEAP = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}
GOOD = "velvet-harbour-cactus"


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(**CHEAP)


def test_production_defaults_are_argon2id_with_at_least_64_mib():
    production = PasswordHasher()
    params = argon2.extract_parameters(production.hash(GOOD))

    assert params == production.parameters
    assert params.type is argon2.Type.ID
    assert params.memory_cost >= 64 * 1024
    assert params.time_cost >= 2
    assert params.salt_len >= 16


def test_a_hash_is_argon2id_salted_and_verifies_only_its_password(hasher):
    stored = hasher.hash(GOOD)

    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert hasher.hash(GOOD) != stored
    assert hasher.verify(stored, GOOD)
    assert not hasher.verify(stored, GOOD + "x")
    assert not hasher.verify(stored, GOOD.upper())


def test_unicode_forms_of_the_same_password_verify(hasher):
    composed, decomposed = "caf\u00e9-au-lait-noir", "cafe\u0301-au-lait-noir"

    assert hasher.verify(hasher.hash(composed), decomposed)
    assert hasher.verify(hasher.hash(decomposed), composed)


def test_a_malformed_stored_hash_verifies_false_without_raising(hasher):
    assert not hasher.verify("not-a-hash", GOOD)
    assert not hasher.verify("$argon2id$v=19$m=8,t=1,p=1$AAAA$BBBB", GOOD)


def test_verify_absent_spends_a_verification_and_refuses(hasher):
    assert hasher.verify_absent(GOOD) is False


def test_a_hash_made_with_older_parameters_needs_rehash(hasher):
    stored = hasher.hash(GOOD)
    stronger = PasswordHasher(time_cost=2, memory_kib=16, parallelism=1)
    argon2i = argon2.PasswordHasher(
        time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.I
    ).hash(GOOD)

    assert not hasher.needs_rehash(stored)
    assert stronger.needs_rehash(stored)
    assert hasher.needs_rehash(argon2i)
    assert hasher.needs_rehash("garbage")
    assert stronger.verify(stored, GOOD)  # old hashes still log in


@pytest.fixture
def policy() -> PasswordPolicy:
    return PasswordPolicy()


def test_a_long_uncommon_password_is_accepted(policy):
    policy.check(GOOD, email="alice.martin@example.com", name="Alice Martin")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-one", "at least 12"),
        ("x1" * (MAX_LENGTH // 2) + "y", f"at most {MAX_LENGTH}"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("121212121212", "different characters"),
        ("qwertyuiop123", "most commonly used"),
        ("PasswordPassword", "most commonly used"),
        ("123456789012", "most commonly used"),
        ("Iloveyou2024!!!", "most commonly used"),
        ("Football1234567", "most commonly used"),
        ("correcthorsebatterystaple", "most commonly used"),
        ("qazwsxedcrfvtgb", "most commonly used"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(policy, password, reason):
    with pytest.raises(WeakPasswordError) as refused:
        policy.check(password)

    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("password", "email", "name"),
    [
        ("my-Alice.Martin-vault", "alice.martin@example.com", None),
        ("the martin family rocks", "alice.martin@example.com", None),
        ("granite-ZOLTAN-river", None, "Zoltan Kovacs"),
        ("kovacs-and-granite-7", None, "Zoltan Kovacs"),
    ],
)
def test_a_password_containing_the_email_or_name_is_refused(
    policy, password, email, name
):
    with pytest.raises(WeakPasswordError) as refused:
        policy.check(password, email=email, name=name)

    assert "name or email" in refused.value.reason


def test_very_short_name_parts_do_not_ban_ordinary_passwords(policy):
    policy.check("jovial-harbour-cactus", email="jo@example.com", name="Li Jo")


def test_length_counts_characters_not_bytes(policy):
    policy.check("\u00e9t\u00e9s-\u00e0-g\u00eanes")  # 12 characters, 16 bytes


def test_the_bundled_list_holds_the_well_known_passwords():
    common = bundled_common_passwords()

    assert len(common) >= 1000
    for known in ("123456", "password", "qwerty", "iloveyou", "dragon", "monkey"):
        assert known in common
    for known in ("letmein", "football", "1qaz2wsx", "trustno1", "1990"):
        assert known in common


def test_a_custom_list_is_compared_case_insensitively():
    policy = PasswordPolicy(["Tangerine-Sky"])

    with pytest.raises(WeakPasswordError):
        policy.check("TANGERINE-SKY!!")
    policy.check("tangerine-skyline")
