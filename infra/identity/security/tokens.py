"""Access tokens (signed JWTs), opaque bearer secrets and refresh rotation.

Two kinds of token:

* An **access token** is a JWT the API checks without a lookup: it names the
  account (``sub``), the tenant (``tid``), the login session (``sid``) and the
  roles, and lives minutes. It is HMAC-signed with one secret key; the
  algorithm is pinned per instance, so ``alg: none`` and any other algorithm
  (including the RS256/HS256 confusion trick) are refused before the
  signature is even checked. Logout takes effect at once because the edge
  also checks that the ``sid`` is still active.
* An **opaque token** is 256 random bits behind a readable prefix
  (``ah_live_`` for API tokens, ``ah_rt_`` refresh, ``ah_reset_`` password
  reset, ``ah_inv_`` invitation). It is shown once and only its SHA-256 is
  stored; a plain hash is enough because the secret has full entropy (there is
  nothing to guess), and the prefix lets secret scanners recognise a leak.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import jwt

from infra.identity.security import SecurityError

REQUIRED_CLAIMS = ("sub", "tid", "sid", "roles", "iat", "exp", "jti", "iss", "aud")
_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_PREFIX = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*_$")
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "issued in the future"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.MissingRequiredClaimError, "missing claim"),
    (jwt.DecodeError, "malformed"),
)


class InvalidTokenError(SecurityError):
    """An access token was refused. The edge answers 401 and says no more.

    Args:
        reason: Why, for logs (``expired``, ``bad signature``, ...).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid access token: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says about its bearer."""

    subject: str
    tenant_id: str
    session_id: str
    roles: tuple[str, ...]
    issued_at: int
    expires_at: int
    token_id: str


class AccessTokens:
    """Issues and verifies access tokens with one pinned HMAC algorithm.

    Args:
        key: The signing secret, at least as long as the algorithm's digest
            (32 bytes for HS256); from the environment, never the code.
        issuer: ``iss``, e.g. the API's base URL.
        audience: ``aud``; a token for another audience is refused.
        ttl_seconds: Lifetime of an access token (minutes, not hours).
        algorithm: ``HS256``, ``HS384`` or ``HS512``.
        leeway_seconds: Clock skew tolerated on ``exp`` and ``iat``.
        clock: Seconds since the epoch at issue time (tests pass their own).

    Raises:
        ValueError: For an unsupported algorithm or a short key.
    """

    def __init__(
        self,
        key: bytes,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        algorithm: str = "HS256",
        *,
        leeway_seconds: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if algorithm not in _KEY_BYTES:
            raise ValueError(f"algorithm must be one of {sorted(_KEY_BYTES)}")
        if len(key) < _KEY_BYTES[algorithm]:
            raise ValueError(
                f"{algorithm} needs a key of at least {_KEY_BYTES[algorithm]} bytes"
            )
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self.algorithm = algorithm
        self._leeway = leeway_seconds
        self._clock = clock

    def issue(
        self, *, subject: str, tenant_id: str, session_id: str, roles: Iterable[str]
    ) -> str:
        """Sign a new access token for the bearer of a login session."""
        now = int(self._clock())
        claims = {
            "sub": subject,
            "tid": tenant_id,
            "sid": session_id,
            "roles": sorted(roles),
            "iat": now,
            "exp": now + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
            "iss": self.issuer,
            "aud": self.audience,
        }
        return jwt.encode(claims, self._key, algorithm=self.algorithm)

    def verify(self, token: str) -> AccessClaims:
        """Check signature, algorithm, expiry, issuer, audience and claims.

        Raises:
            InvalidTokenError: If anything is wrong; ``reason`` says what.
        """
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(_reason(exc)) from exc
        text = [claims[name] for name in ("sub", "tid", "sid", "jti")]
        roles = claims["roles"]
        if not all(isinstance(value, str) and value for value in text):
            raise InvalidTokenError("claim of the wrong type")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidTokenError("claim of the wrong type")
        return AccessClaims(
            subject=claims["sub"],
            tenant_id=claims["tid"],
            session_id=claims["sid"],
            roles=tuple(roles),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
            token_id=claims["jti"],
        )


def _reason(exc: jwt.PyJWTError) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "invalid"


def opaque_token(prefix: str) -> tuple[str, str]:
    """A new bearer secret: ``(token to show once, digest to store)``.

    Args:
        prefix: Lower-case, ending in ``_``: ``ah_live_``, ``ah_rt_``, ...
    """
    if not _PREFIX.match(prefix):
        raise ValueError("prefix must be lower-case words joined by and ending in _")
    token = prefix + secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """The SHA-256 (hex) under which an opaque token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    """Compare two secrets (or digests) without leaking where they differ."""
    return hmac.compare_digest(left.encode(), right.encode())


class RefreshTokenError(SecurityError):
    """A refresh token was refused; the client must log in again."""


class UnknownRefreshTokenError(RefreshTokenError):
    """The token is not one this family issued."""


class ExpiredRefreshTokenError(RefreshTokenError):
    """The token, or its whole session, is past its expiry."""


class RevokedSessionError(RefreshTokenError):
    """The session was revoked (logout, password change or reuse)."""


class ReuseDetectedError(RefreshTokenError):
    """A rotated token came back: it was stolen or leaked. Family now revoked.

    Args:
        family_id: The revoked session family, for the security event.
    """

    def __init__(self, family_id: str) -> None:
        super().__init__(f"refresh token reused in session family {family_id}")
        self.family_id = family_id


@dataclass
class RefreshFamily:
    """The rotation state of one login session (pure; the store persists it).

    Each refresh presents the current token and gets a new one; the old one
    joins ``rotated``. Presenting a rotated token means two parties hold the
    session, so the whole family is revoked and both must log in again. The
    store must load, call and save under a row lock in one transaction.

    Attributes:
        family_id: The session id (the ``sid`` of its access tokens).
        current_digest: Digest of the only token that may be used now.
        current_expires_at: When that token stops working if unused.
        expires_at: Absolute end of the session, whatever the rotations.
        token_ttl: Idle lifetime of each refresh token, in seconds.
        rotated: Digests of the tokens already used.
        revoked_at: When the family was revoked, if it was.
    """

    family_id: str
    current_digest: str
    current_expires_at: float
    expires_at: float
    token_ttl: int
    rotated: set[str] = field(default_factory=set)
    revoked_at: float | None = None

    @classmethod
    def start(
        cls, *, now: float, token_ttl: int, lifetime: int
    ) -> tuple[RefreshFamily, str]:
        """Open a session at login: the family and its first token."""
        token, token_digest = opaque_token("ah_rt_")
        expires_at = now + lifetime
        family = cls(
            family_id=uuid.uuid4().hex,
            current_digest=token_digest,
            current_expires_at=min(now + token_ttl, expires_at),
            expires_at=expires_at,
            token_ttl=token_ttl,
        )
        return family, token

    def is_active(self, now: float) -> bool:
        """Not revoked and not past its absolute expiry."""
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, now: float) -> None:
        """End the session (logout, password change); idempotent."""
        if self.revoked_at is None:
            self.revoked_at = now

    def rotate(self, presented_digest: str, now: float) -> str:
        """Exchange the current token for a new one.

        Returns:
            The new refresh token, to show once.

        Raises:
            RevokedSessionError: The family was revoked before.
            ReuseDetectedError: A rotated token was presented; the family is
                revoked now (save it before answering).
            ExpiredRefreshTokenError: The token or the session has expired.
            UnknownRefreshTokenError: The token is not of this family.
        """
        if self.revoked_at is not None:
            raise RevokedSessionError(f"session family {self.family_id} is revoked")
        if presented_digest in self.rotated:
            self.revoke(now)
            raise ReuseDetectedError(self.family_id)
        if not constant_time_equals(presented_digest, self.current_digest):
            raise UnknownRefreshTokenError("not a token of this session")
        if now >= self.current_expires_at or now >= self.expires_at:
            raise ExpiredRefreshTokenError(f"session {self.family_id} expired")
        token, token_digest = opaque_token("ah_rt_")
        self.rotated.add(self.current_digest)
        self.current_digest = token_digest
        self.current_expires_at = min(now + self.token_ttl, self.expires_at)
        return token
