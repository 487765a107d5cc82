"""Identity and access: tenants, accounts, sessions, one-time passwords and
API tokens, as application services over the identity aggregates.

Credentials (password hashes, TOTP secrets, recovery-code hashes, token
digests) never enter an event: they are side records written in the same
transaction as the events that cause them (see :mod:`commands.identity.ports`).
"""
