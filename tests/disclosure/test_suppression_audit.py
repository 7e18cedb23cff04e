"""Primary and complementary suppression and the LP audit, on crafted tables (no Kafka)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from renkei.disclosure.audit import AuditModelError, audit
from renkei.disclosure.microdata import Person
from renkei.disclosure.suppression import close_singletons, primary_cells, suppress
from renkei.disclosure.table import (
    RATES,
    TOTAL,
    UNALLOCATED,
    Cell,
    Relation,
    build_table,
)

TOWN = "011011:0640941"
OTHER = "011011:0640942"


@dataclass
class Grid:
    """A two-way frequency table with its row and column totals shown (the textbook case)."""

    body: dict[str, dict[str, int]]
    values: dict[Cell, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        columns = list(next(iter(self.body.values())))
        for row, cells in self.body.items():
            for column, value in cells.items():
                self.values[(row, column)] = value
            self.values[(row, "T")] = sum(cells.values())
        for column in [*columns, "T"]:
            self.values[("T", column)] = sum(self.values[(r, column)] for r in self.body)
        self.columns = columns

    @property
    def cells(self) -> list[Cell]:
        return list(self.values)

    def value(self, cell: Cell) -> int:
        return self.values[cell]

    @property
    def equalities(self) -> tuple[Relation, ...]:
        rows = [(((r, "T"), 1), *(((r, c), -1) for c in self.columns)) for r in [*self.body, "T"]]
        cols = [(((("T", c)), 1), *(((r, c), -1) for r in self.body)) for c in [*self.columns, "T"]]
        return tuple(rows + cols)

    @property
    def inequalities(self) -> tuple[Relation, ...]:
        return ()


GRID = Grid(
    {
        "r1": {"c1": 20, "c2": 3, "c3": 15},
        "r2": {"c1": 12, "c2": 25, "c3": 8},
        "r3": {"c1": 30, "c2": 14, "c3": 22},
    }
)
RECTANGLE = {("r1", "c2"), ("r1", "c3"), ("r2", "c2"), ("r2", "c3")}


def test_the_audit_computes_each_feasible_interval_of_a_rectangle() -> None:
    # x12 + x13 = 18, x22 + x23 = 33, x12 + x22 = 28, x13 + x23 = 23: one free t = x12 ∈ [0, 18].
    result = audit(GRID, RECTANGLE, protection=10, exact=True)
    found = {i.cell: (i.low, i.high) for i in result.intervals}
    assert found == {
        ("r1", "c2"): (0, 18),
        ("r1", "c3"): (0, 18),
        ("r2", "c2"): (10, 28),
        ("r2", "c3"): (5, 23),
    }
    assert result.passed and result.solves == 8


def test_a_single_suppressed_cell_in_a_line_is_recomputed_from_its_total() -> None:
    result = audit(GRID, {("r1", "c2")}, protection=1)
    [interval] = result.intervals
    assert (interval.low, interval.high) == (3, 3)
    assert not result.passed and result.failures == (interval,)


def test_a_narrow_rectangle_fails_and_suppression_widens_it() -> None:
    narrow = Grid(
        {
            "r1": {"c1": 20, "c2": 3, "c3": 2},
            "r2": {"c1": 12, "c2": 25, "c3": 8},
            "r3": {"c1": 30, "c2": 14, "c3": 22},
        }
    )
    # x12 + x13 = 5: both lie in [0, 5], narrower than 10.
    result = audit(narrow, RECTANGLE, protection=10)
    assert {f.cell for f in result.failures} >= {("r1", "c2"), ("r1", "c3")}
    done = suppress(narrow, k=10, protection=10)
    assert done.audit.passed
    assert done.primary == {("r1", "c2"), ("r1", "c3"), ("r2", "c3")}
    assert done.audit.narrowest is not None and done.audit.narrowest.width >= 10


def test_an_unbounded_cell_has_an_infinite_upper_bound() -> None:
    hidden = {("r1", "c2"), ("r1", "c3"), ("r1", "T"), ("T", "c2"), ("T", "c3"), ("T", "T")}
    hidden |= {("r2", "c2"), ("r2", "c3"), ("r3", "c2"), ("r3", "c3"), ("r2", "T"), ("r3", "T")}
    result = audit(GRID, hidden, protection=10, exact=True)
    assert all(math.isinf(i.high) for i in result.intervals if i.cell[0] == "T")


def test_relations_that_do_not_hold_are_an_error_not_a_release() -> None:
    broken = Grid({"r1": {"c1": 20, "c2": 3}, "r2": {"c1": 12, "c2": 25}})
    broken.values[("T", "T")] += 5
    with pytest.raises(AuditModelError, match="relations do not hold"):
        audit(broken, {("r1", "c2"), ("r1", "c1"), ("r2", "c1"), ("r2", "c2")}, protection=1)


def _people(town: str, count: int, age: int, start: int = 0, **facts: object) -> list[Person]:
    return [
        Person(f"{town}-{start + i:05d}", "011011", town, age, **facts)  # type: ignore[arg-type]
        for i in range(count)
    ]


def _margin_table():  # type: ignore[no-untyped-def]
    """町域 TOWN: 30 residents aged 30-34 and 3 aged 92; OTHER: 40 aged 50-54."""
    return build_table(
        "011011", _people(TOWN, 30, 32) + _people(TOWN, 3, 92, 30) + _people(OTHER, 40, 52)
    )


def test_margin_attack_population_minus_the_shown_bands() -> None:
    table = _margin_table()
    band = (TOWN, "band:90+")
    assert table.value(band) == 3
    primary = primary_cells(table, 10, (UNALLOCATED,))
    assert band in primary and (TOWN, "population") not in primary
    # Primary suppression only: population 33 − band 30-34 (30) = 3 is the 90+ band.
    only_primary = audit(table, primary, protection=10)
    assert band in {f.cell for f in only_primary.failures}
    [interval] = [i for i in only_primary.intervals if i.cell == band]
    assert (interval.low, interval.high) == (0, 3)
    # With complementary cells, no suppressed cell can be narrowed below 10.
    done = suppress(table, k=10, protection=10, hidden_rows=(UNALLOCATED,))
    assert done.audit.passed
    assert done.complementary, "the margin needs a complementary cell"
    [protected] = [i for i in done.audit.intervals if i.cell == band]
    assert protected.width >= 10


def test_margin_attack_municipality_total_minus_its_towns() -> None:
    # A protected resident is counted only in 町域不詳 (never shown): total − Σ 町域 = her.
    people = _people(TOWN, 30, 32) + _people(OTHER, 40, 52)
    people.append(Person("protected-1", "011011", None, 33))
    table = build_table("011011", people)
    assert table.value((UNALLOCATED, "population")) == 1
    assert table.value((TOTAL, "population")) == 71
    primary = primary_cells(table, 10, (UNALLOCATED,))
    failures = {f.cell for f in audit(table, primary, protection=10).failures}
    assert (UNALLOCATED, "population") in failures
    done = suppress(table, k=10, protection=10, hidden_rows=(UNALLOCATED,))
    assert done.audit.passed
    [hers] = [i for i in done.audit.intervals if i.cell == (UNALLOCATED, "population")]
    assert hers.width >= 10


def test_pairs_alone_are_checked_by_the_audit_not_trusted() -> None:
    # close_singletons leaves no line with one suppressed cell; the audit still decides.
    table = _margin_table()
    closed = close_singletons(table, primary_cells(table, 10, (UNALLOCATED,)))
    assert audit(table, closed, protection=10).intervals


def test_a_rate_is_hidden_with_both_of_its_counts() -> None:
    people = _people(TOWN, 40, 45, checkup_fy=2026, metabolic="none")
    people += _people(TOWN, 4, 46, 40, checkup_fy=2026, metabolic="meets")
    people += _people(OTHER, 50, 50, checkup_fy=2026, metabolic="meets")
    table = build_table("011011", people)
    done = suppress(
        table, k=10, protection=10, hidden_rows=(UNALLOCATED,), rates=tuple(RATES.values())
    )
    assert (TOWN, "metabolic_meets") in done.primary
    assert (TOWN, "checkup_judged") in done.hidden
    assert done.audit.passed


def test_the_previous_pattern_is_kept_where_it_can_be() -> None:
    table = _margin_table()
    first = suppress(table, k=10, protection=10, hidden_rows=(UNALLOCATED,))
    again = suppress(
        table, k=10, protection=10, hidden_rows=(UNALLOCATED,), previous=first.suppressed
    )
    assert again.suppressed == first.suppressed
