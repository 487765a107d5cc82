"""``assurehub person-keys``: how the per-person data keys are wrapped, and
rewrapping them with the current wrapping key.

``person-keys status`` counts the stored keys by wrapping key id (``clear``:
stored before wrapping existed); ``person-keys rewrap`` wraps every key that
is not wrapped with the first key of ``ASSUREHUB_PERSON_KEY_WRAPPING_KEYS``
with it (keys in the clear, and keys wrapped with an older wrapping key that
is still configured; keys wrapped with a key no longer configured are left
and counted by ``status``). ``assurehub migrate`` rewraps too.

Exit status: 0 done, 1 a wrapped key does not open (it was altered), 2 no
wrapping key is configured.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from infra.erasure.wrapping import SETTING, KeyWrapping, WrappingKeyError
from infra.postgres.person_keys import rewrap, wrapping_census
from infra.postgres.pool import Database


def add_person_keys_parser(sub: Any) -> None:
    """The ``person-keys`` command."""
    p = sub.add_parser("person-keys", help="wrapping of the per-person data keys")
    verbs = p.add_subparsers(dest="verb", required=True)
    verbs.add_parser("status", help="stored keys by wrapping key id")
    r = verbs.add_parser("rewrap", help="wrap every key with the current wrapping key")
    r.add_argument("--tenant", help="only this tenant's keys")


def person_keys_command(
    database: Database, wrapping: KeyWrapping, args: argparse.Namespace
) -> int:
    """``person-keys status`` and ``person-keys rewrap``."""
    if args.verb == "rewrap":
        if wrapping.current is None:
            print(f"person-keys: {SETTING} is not set", file=sys.stderr)
            return 2
        try:
            done = rewrap(database.connection, wrapping, tenant_id=args.tenant)
        except WrappingKeyError as e:
            print(f"person-keys: {e}", file=sys.stderr)
            return 1
        print(f"rewrapped {done} key(s) with {wrapping.current}")
    census = wrapping_census(database.connection)
    print(
        ", ".join(
            f"{n} key(s) {_named(key_id, wrapping)}" for key_id, n in census.items()
        )
        or "no stored keys"
    )
    return 0


def rewrap_on_migrate(database: Database, wrapping: KeyWrapping) -> None:
    """Wrap what is not wrapped with the current key (``assurehub migrate``);
    a key that cannot be unwrapped is reported and left as it is."""
    if wrapping.current is None:
        return
    try:
        done = rewrap(database.connection, wrapping)
    except WrappingKeyError as e:
        print(f"person keys: not rewrapped: {e}", file=sys.stderr)
        return
    print(f"person keys: {done} rewrapped with {wrapping.current}")


def _named(key_id: str | None, wrapping: KeyWrapping) -> str:
    if key_id is None:
        return "in the clear"
    known = "" if key_id in wrapping.key_ids else " (not configured: unreadable)"
    return f"wrapped with {key_id}{known}"
