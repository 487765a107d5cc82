"""Whether a certification decision is stale: what it was taken on (its
basis, kept in ``audits.decision_basis`` by the audits projection) against
the audit's rows and its standard template's publications now, or as of a
moment. Shared by the live and the as-of audit detail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from projections.rows import Row


class Publication(NamedTuple):
    """A published version of a standard template and the store position of
    its publication."""

    version: int
    position: int


def decision_of(
    audit: Row, findings: list[Row], publications: Sequence[Publication] = ()
) -> Row | None:
    """The audit's current decision with what it was taken on and, if any
    of that moved since, ``stale`` and the ``changes`` (``None``: no
    decision). ``stale`` is ``None`` for a decision recorded before its
    basis was kept. ``publications`` are the published versions of the
    audit's standard template (at the moment answered for): one published
    after the decision, later than the version it was taken on, moves the
    template. Shared by the live and the as-of detail."""
    if audit["decision_outcome"] is None:
        return None
    basis: Row | None = audit["decision_basis"]
    changes = [] if basis is None else _moved(basis, audit, findings, publications)
    return {
        "outcome": audit["decision_outcome"],
        "reasons": audit["decision_reasons"],
        "decided_by": audit["decided_by"],
        "decided_on": audit["decided_on"],
        "basis": basis,
        "stale": None if basis is None else bool(changes),
        "changes": changes,
    }


def decided_at(audit: Row) -> int | None:
    """The store position of the audit's current decision, if it was kept
    (a read model projected before it was has none: rebuild it)."""
    basis: Row | None = audit["decision_basis"]
    return None if basis is None else basis.get("position")


def _template_now(basis: Row, audit: Row, publications: Sequence[Publication]) -> int:
    """The template version the decision would be taken on now: the audit's
    own, or the latest one published after the decision if that is later."""
    now: int = audit["standard_version"]
    decided = basis.get("position")
    if decided is None:
        return now
    later = [
        p.version
        for p in publications
        if p.position > decided and p.version > basis["template_version"]
    ]
    return max([now, *later])


def _moved(
    basis: Row, audit: Row, findings: list[Row], publications: Sequence[Publication]
) -> list[Row]:
    """What moved from the versions in ``basis``: the audit, its standard
    template (its own version, or one published after the decision), and
    each finding (one raised since has ``from_version`` null)."""

    def change(kind: str, of: Any, was: int | None, now: int) -> Row:
        return {"kind": kind, "id": of, "from_version": was, "to_version": now}

    moved = []
    if audit["content_version"] > basis["audit_version"]:
        moved.append(
            change(
                "audit", audit["id"], basis["audit_version"], audit["content_version"]
            )
        )
    template = _template_now(basis, audit, publications)
    if template != basis["template_version"]:
        moved.append(
            change(
                "template",
                audit["standard_template_id"],
                basis["template_version"],
                template,
            )
        )
    recorded: Mapping[str, int] = basis["finding_versions"]
    for f in findings:
        was = recorded.get(str(f["id"]))
        if was != f["version"]:
            moved.append(change("finding", f["id"], was, f["version"]))
    return moved
