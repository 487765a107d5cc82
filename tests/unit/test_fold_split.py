"""How a rebuild's folds are split over two processes."""

from __future__ import annotations

from infra.projection.fold_split import split
from infra.projection.memory_fold import MemoryFold
from projections.envelope import EventEnvelope
from projections.rows import Rows, Table, columns


class Named:
    tables: tuple[Table, ...] = (
        Table("t", columns("tenant_id text"), key=("tenant_id",)),
    )

    def __init__(self, name: str) -> None:
        self.name = name

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        pass


def names(group: list[MemoryFold]) -> list[str]:
    return [f.projection.name for f in group]


def test_the_heaviest_fold_stays_and_the_lighter_ones_go_together():
    folds = [MemoryFold(Named(n)) for n in ("a", "audits", "b", "c")]
    mine, theirs = split(folds, [1.0, 20.0, 1.5, 0.5])
    assert names(mine) == ["audits"]
    assert names(theirs) == ["b", "a", "c"]


def test_folds_of_like_cost_are_balanced_between_the_two():
    folds = [MemoryFold(Named(n)) for n in "abcd"]
    mine, theirs = split(folds, [4.0, 3.0, 3.0, 2.0])
    assert names(mine) == ["a", "d"]
    assert names(theirs) == ["b", "c"]


def test_a_single_fold_is_not_split():
    fold = MemoryFold(Named("a"))
    assert split([fold], [1.0]) == ([fold], [])
