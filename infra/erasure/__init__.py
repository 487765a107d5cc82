"""Erasure by crypto-shredding: personal field values sealed with a data key
per person, so that destroying the key erases every copy at once.

Holds the port of the key table (:class:`~infra.erasure.keys.PersonKeys`),
its in-memory twin (:mod:`infra.erasure.memory`, for tests), the sealing of
values (:mod:`infra.erasure.sealing`: AES-GCM tokens ``pii:v1:…``) and the
wrapping of the stored keys with a key-encryption key
(:mod:`infra.erasure.wrapping`). The Postgres key table is in
:mod:`infra.postgres.person_keys`.

May import: ``domain``, the shared top-level modules and ``cryptography``.
Not the capability rooms (:mod:`infra.eventstore`, :mod:`infra.streaming`,
:mod:`infra.projection`, :mod:`infra.identity`), which build on it.
"""
