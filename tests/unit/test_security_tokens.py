"""Access tokens, opaque tokens and refresh rotation: tokens that try to get in."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.identity.security.tokens import (
    AccessTokens,
    ExpiredRefreshTokenError,
    InvalidTokenError,
    RefreshFamily,
    ReuseDetectedError,
    RevokedSessionError,
    UnknownRefreshTokenError,
    constant_time_equals,
    digest,
    opaque_token,
)

KEY = b"k" * 64
ISSUER = "https://api.assurehub.test"
AUDIENCE = "assurehub-api"


def tokens(
    *,
    key: bytes = KEY,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    algorithm: str = "HS256",
    clock=time.time,
) -> AccessTokens:
    return AccessTokens(key, issuer, audience, 300, algorithm, clock=clock)


def issued(access: AccessTokens | None = None) -> str:
    return (access or tokens()).issue(
        subject="acct-1", tenant_id="tenant-a", session_id="sess-1", roles=["auditor"]
    )


def claims(**overrides) -> dict:
    now = int(time.time())
    body = {
        "sub": "acct-1",
        "tid": "tenant-a",
        "sid": "sess-1",
        "roles": ["tenant_admin"],
        "iat": now,
        "exp": now + 300,
        "jti": "j-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    body.update(overrides)
    return body


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(token: str) -> str:
    with pytest.raises(InvalidTokenError) as error:
        tokens().verify(token)
    assert isinstance(error.value.__cause__, jwt.PyJWTError) or (
        error.value.reason == "claim of the wrong type"
    )
    return error.value.reason


def test_an_issued_token_verifies_to_its_claims():
    verified = tokens().verify(issued())

    assert (verified.subject, verified.tenant_id, verified.session_id) == (
        "acct-1",
        "tenant-a",
        "sess-1",
    )
    assert verified.roles == ("auditor",)
    assert verified.expires_at - verified.issued_at == 300
    header = jwt.get_unverified_header(issued())
    assert header["alg"] == "HS256"


def test_each_token_has_its_own_id():
    assert tokens().verify(issued()).token_id != tokens().verify(issued()).token_id


def test_a_tampered_signature_is_refused():
    head, body, signature = issued().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert refused(f"{head}.{body}.{flipped}") == "bad signature"


def test_a_tampered_payload_is_refused():
    head, body, signature = issued().split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["roles"] = ["tenant_admin"]
    forged = b64(json.dumps(payload).encode())

    assert refused(f"{head}.{forged}.{signature}") == "bad signature"


def test_a_token_signed_with_another_key_is_refused():
    other = tokens(key=b"o" * 64)

    assert refused(issued(other)) == "bad signature"


def test_an_expired_token_is_refused():
    an_hour_ago = tokens(clock=lambda: time.time() - 3600)

    assert refused(issued(an_hour_ago)) == "expired"


def test_a_token_just_past_expiry_is_still_within_the_small_leeway():
    barely = tokens(clock=lambda: time.time() - 305)

    assert tokens().verify(issued(barely)).subject == "acct-1"


def test_a_token_issued_in_the_future_is_refused():
    later = tokens(clock=lambda: time.time() + 3600)

    assert refused(issued(later)) == "issued in the future"


def test_a_token_for_another_audience_or_issuer_is_refused():
    assert refused(issued(tokens(audience="other-app"))) == "wrong audience"
    assert refused(issued(tokens(issuer="https://evil.test"))) == "wrong issuer"


def test_an_audience_list_is_refused():
    token = jwt.encode(claims(aud=[AUDIENCE, "other"]), KEY, algorithm="HS256")

    assert refused(token) == "wrong audience"


def test_an_unsigned_alg_none_token_is_refused():
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())

    assert refused(f"{header}.{body}.") == "algorithm not allowed"
    with_library = jwt.encode(claims(), "", algorithm="none")
    assert refused(with_library) == "algorithm not allowed"


def test_a_token_with_the_right_key_but_another_hmac_algorithm_is_refused():
    token = jwt.encode(claims(), KEY, algorithm="HS512")

    assert refused(token) == "algorithm not allowed"


def test_an_rs256_token_is_refused():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), private, algorithm="RS256")

    assert refused(token) == "algorithm not allowed"


@pytest.mark.parametrize("claim", ["sub", "tid", "sid", "roles", "exp", "jti", "aud"])
def test_a_token_missing_a_required_claim_is_refused(claim):
    body = claims()
    del body[claim]
    token = jwt.encode(body, KEY, algorithm="HS256")

    assert refused(token) in {"missing claim", "wrong audience"}


@pytest.mark.parametrize(
    "override", [{"tid": 7}, {"sid": ""}, {"roles": "tenant_admin"}, {"roles": [1]}]
)
def test_claims_of_the_wrong_type_are_refused(override):
    token = jwt.encode(claims(**override), KEY, algorithm="HS256")

    assert refused(token) == "claim of the wrong type"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_refused(garbage):
    assert refused(garbage) in {"malformed", "bad signature"}


@pytest.mark.parametrize(
    ("key", "algorithm"), [(b"k" * 31, "HS256"), (b"k" * 63, "HS512")]
)
def test_a_key_shorter_than_the_digest_is_refused(key, algorithm):
    with pytest.raises(ValueError, match="at least"):
        tokens(key=key, algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ["none", "RS256", "ES256", "hs256"])
def test_only_hmac_algorithms_can_be_pinned(algorithm):
    with pytest.raises(ValueError, match="algorithm"):
        tokens(algorithm=algorithm)


def test_opaque_tokens_are_prefixed_random_and_stored_as_their_digest():
    token, stored = opaque_token("ah_live_")
    other, _ = opaque_token("ah_live_")

    assert token.startswith("ah_live_")
    assert len(token) >= len("ah_live_") + 43  # 256 bits of base64url
    assert token != other
    assert token not in stored
    assert stored == digest(token)
    assert len(stored) == 64
    assert constant_time_equals(digest(token), stored)
    assert not constant_time_equals(digest(other), stored)


@pytest.mark.parametrize("prefix", ["", "ah", "AH_live_", "ah live_", "ah-live_"])
def test_opaque_token_prefixes_are_checked(prefix):
    with pytest.raises(ValueError, match="prefix"):
        opaque_token(prefix)


def started(now: float = 1000.0) -> tuple[RefreshFamily, str]:
    return RefreshFamily.start(now=now, token_ttl=600, lifetime=3600)


def test_rotation_gives_a_new_token_and_retires_the_old_one():
    family, first = started()

    second = family.rotate(digest(first), now=1100)

    assert second != first
    assert second.startswith("ah_rt_")
    assert family.current_digest == digest(second)
    assert family.current_expires_at == 1700
    third = family.rotate(digest(second), now=1200)
    assert family.current_digest == digest(third)
    assert family.is_active(now=1200)


def test_reusing_a_rotated_token_revokes_the_whole_family():
    family, first = started()
    second = family.rotate(digest(first), now=1100)

    with pytest.raises(ReuseDetectedError) as reused:
        family.rotate(digest(first), now=1150)

    assert reused.value.family_id == family.family_id
    assert family.revoked_at == 1150
    assert not family.is_active(now=1150)
    with pytest.raises(RevokedSessionError):
        family.rotate(digest(second), now=1160)  # the legitimate holder too


def test_an_unknown_token_is_refused_without_revoking():
    family, first = started()
    stranger, _ = opaque_token("ah_rt_")

    with pytest.raises(UnknownRefreshTokenError):
        family.rotate(digest(stranger), now=1100)

    assert family.is_active(now=1100)
    family.rotate(digest(first), now=1100)


def test_an_idle_token_expires():
    family, first = started()

    with pytest.raises(ExpiredRefreshTokenError):
        family.rotate(digest(first), now=1600)


def test_rotation_never_outlives_the_session():
    family, token = started()
    for now in (1500, 2000, 2500, 3000, 3500, 4000, 4200):
        token = family.rotate(digest(token), now=now)

    assert family.current_expires_at == 4600
    with pytest.raises(ExpiredRefreshTokenError):
        family.rotate(digest(token), now=4600)
    assert not family.is_active(now=4600)


def test_logout_revokes_the_family():
    family, first = started()

    family.revoke(now=1050)
    family.revoke(now=1060)

    assert family.revoked_at == 1050
    with pytest.raises(RevokedSessionError):
        family.rotate(digest(first), now=1100)
