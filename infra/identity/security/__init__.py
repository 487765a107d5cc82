"""Security building blocks for identity and access (issue 5).

Small, pure pieces with no I/O and no dependency on the rest of the app: keys
and parameters come in as constructor arguments (the composition root reads
them from the settings), so each piece is tested on its own and the account
model, its Postgres stores and the HTTP edge stay thin adapters around them.

How they serve the identity issue:

* :mod:`infra.identity.security.passwords` -- :class:`~.passwords.PasswordHasher`
  (argon2id) stores and checks passwords; :class:`~.passwords.PasswordPolicy`
  refuses short, common or personal ones at sign-up, reset and change.
* :mod:`infra.identity.security.tokens` -- :class:`~.tokens.AccessTokens` issues and
  verifies the short-lived JWT from which the edge builds the Principal
  (``sub``, ``tid``, ``sid``, ``roles``); :func:`~.tokens.opaque_token` mints
  every bearer secret that is stored only as a digest (refresh tokens, API
  tokens ``ah_live_...``, password-reset and invitation tokens);
  :class:`~.tokens.RefreshFamily` is the rotation state of one login session,
  which a store loads, calls and saves.
* :mod:`infra.identity.security.totp` -- :class:`~.totp.TotpSecrets` creates TOTP
  secrets, encrypts them at rest bound to their account and draws the
  enrollment QR code; :class:`~.totp.Totp` checks a code once, with a
  one-step drift window; :class:`~.totp.RecoveryCodes` issues and spends the
  ten single-use recovery codes.

What is left to the callers: persistence (the current refresh digest, the
last accepted TOTP step and the remaining recovery-code hashes must be saved
in the same transaction that accepts them, under a row lock, or two
concurrent requests could both spend the same secret), rate limits, and
security events.

Exception tree::

    InfrastructureError                   (infra.errors)
    └── SecurityError
        ├── WeakPasswordError             (passwords) reason inside
        ├── InvalidTokenError             (tokens) access token refused; reason
        ├── RefreshTokenError             (tokens) refresh refused
        │   ├── UnknownRefreshTokenError  not a token of this family
        │   ├── ExpiredRefreshTokenError  token or session past its expiry
        │   ├── RevokedSessionError       family already revoked
        │   └── ReuseDetectedError        rotated token replayed: family revoked
        ├── SecretDecryptionError         (totp) blob tampered, moved or unknown key
        └── InvalidRecoveryCodeError      (totp) not one of the remaining codes

Invalid TOTP codes and wrong passwords are not errors: ``verify`` returns
``None`` / ``False`` so that the caller counts the failure for rate limiting.
"""

from __future__ import annotations

from infra.errors import InfrastructureError


class SecurityError(InfrastructureError):
    """Base of the errors of the security building blocks."""
