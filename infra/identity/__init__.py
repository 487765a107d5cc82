"""Identity and access adapters: the token authenticator of the HTTP edge,
login lockouts (Redis with an in-process fallback), the crypto
adapters behind ``commands.identity.crypto`` over :mod:`infra.identity.security`
(argon2id, JWT, TOTP, recovery codes), key loading, and the in-memory identity
directory that tests use as the Postgres directory's twin.

May import: ``domain``, ``commands`` ports, :mod:`infra.cache`,
``infra.postgres`` and the shared top-level modules. Not
:mod:`infra.streaming` nor :mod:`infra.projection`.
"""
