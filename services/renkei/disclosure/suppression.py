"""Primary and complementary suppression (一次秘匿・二次秘匿) of a snapshot table.

- **Primary**: every count below ``k`` (0 included: "nobody in this 町域 meets" says something
  about every person judged there), and every cell of a row that is never shown
  (``table.UNALLOCATED``: residents under a 支援措置 and residents without a 町域).
- **Complementary**: a relation (a sum along a row or a column) with exactly one suppressed
  cell gives that cell away, so another cell of the relation is suppressed too, until no
  relation has exactly one. The partner chosen is, in order: a cell suppressed in the previous
  snapshot (the pattern stays stable between snapshots, so two snapshots do not uncover each
  other's cells), then the smallest value (the least information lost), a margin last.
- **Audit-driven**: pairs are necessary but not sufficient (cells can still be pinned through
  several relations), so the audit (``audit.py``) runs, and for each cell it finds too narrow
  one more partner is suppressed in a relation of that cell; repeated until the audit passes
  or ``max_rounds`` is reached (then nothing is released).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from renkei.disclosure.audit import AuditableTable, AuditResult, Interval, audit
from renkei.disclosure.table import TOTAL, Cell, Relation

WIDEN_TRIES = 8
"""Candidate partners tried for a cell the audit found too narrow, per round."""


@dataclass(frozen=True)
class Suppression:
    """The cells suppressed and why, with the audit that released (or refused) them."""

    primary: frozenset[Cell]
    complementary: frozenset[Cell]
    audit: AuditResult
    rounds: int
    unpublished: frozenset[Cell] = frozenset()
    """Cells no figure shows although they are not small: the other count of a suppressed
    rate. Unknown to a reader (the audit's variables), not themselves protected."""

    @property
    def suppressed(self) -> frozenset[Cell]:
        return self.primary | self.complementary

    @property
    def hidden(self) -> frozenset[Cell]:
        """Every cell a reader does not see."""
        return self.suppressed | self.unpublished


def primary_cells(table: AuditableTable, k: int, hidden_rows: Iterable[str] = ()) -> set[Cell]:
    """Counts below ``k``, and every cell of ``hidden_rows``."""
    rows = set(hidden_rows)
    return {cell for cell in table.cells if cell[0] in rows or table.value(cell) < k}


def unpublished_cells(
    table: AuditableTable, hidden: set[Cell], pairs: Iterable[tuple[str, str]]
) -> set[Cell]:
    """The shown-sized count of each rate (``pairs`` of columns) whose other count is hidden:
    the rate is not published, so neither count is."""
    rows = {cell[0] for cell in table.cells}
    out: set[Cell] = set()
    for row in rows:
        for numerator, denominator in pairs:
            a, b = (row, numerator), (row, denominator)
            if a in hidden and b not in hidden:
                out.add(b)
            elif b in hidden and a not in hidden:
                out.add(a)
    return out


def _cost(cell: Cell, table: AuditableTable, previous: frozenset[Cell]) -> tuple[int, int, int]:
    return (int(cell not in previous), int(cell[0] == TOTAL), table.value(cell))


def _index(relations: Iterable[Relation]) -> dict[Cell, list[Relation]]:
    by_cell: dict[Cell, list[Relation]] = defaultdict(list)
    for relation in relations:
        for cell, _ in relation:
            by_cell[cell].append(relation)
    return by_cell


def close_singletons(
    table: AuditableTable,
    suppressed: set[Cell],
    previous: frozenset[Cell] = frozenset(),
    protection: float = 0.0,
    unpublished: frozenset[Cell] = frozenset(),
) -> set[Cell]:
    """``suppressed`` plus partners until no equality gives a suppressed cell away on its own:
    none has exactly one suppressed cell, and where a relation's first cell (its total) is
    shown, its suppressed parts add up to at least ``protection`` (their sum is known, and
    each of them lies between 0 and that sum)."""
    hidden = set(suppressed)
    by_cell = _index(table.equalities)
    queue = list(hidden)
    while queue:
        cell = queue.pop()
        for relation in by_cell.get(cell, ()):
            cells = [c for c, _ in relation]
            inside = [c for c in cells if c in hidden or c in unpublished]
            shown = [c for c in cells if c not in hidden and c not in unpublished]
            if not inside or not shown:
                continue
            total_shown = cells[0] not in hidden
            known_sum = sum(table.value(c) for c in inside) if total_shown else None
            if len(inside) > 1 and (known_sum is None or known_sum >= protection):
                continue
            parts = [c for c in shown if c != cells[0]] if total_shown else shown
            partner = min(parts or shown, key=lambda c: _cost(c, table, previous))
            hidden.add(partner)
            queue.append(partner)
    return hidden


def _widen(
    table: AuditableTable,
    hidden: set[Cell],
    result: AuditResult,
    previous: frozenset[Cell],
    unpublished: frozenset[Cell],
    protection: float,
) -> set[Cell]:
    """More partners for the cells the audit found too narrow. For the narrowest failure of
    each row, the shown cells of its relations and of its row's relations are tried in cost
    order (each with its closure): the first that gives it the protection interval is kept,
    else the one that widens it most."""
    by_cell = _index((*table.equalities, *table.inequalities))
    narrowest: dict[str, Interval] = {}
    for failure in result.failures:
        held = narrowest.get(failure.cell[0])
        if held is None or failure.width < held.width:
            narrowest[failure.cell[0]] = failure
    widened = set(hidden)
    for failure in narrowest.values():
        if failure.cell not in widened:
            continue
        row = failure.cell[0]
        options = {
            c
            for s in (failure.cell, *(h for h in widened if h[0] == row))
            for relation in by_cell.get(s, ())
            for c, _ in relation
            if c not in widened and c not in unpublished
        }
        ranked = sorted(options, key=lambda c: (c[0] != row, *_cost(c, table, previous)))
        best: tuple[float, set[Cell]] | None = None
        for option in ranked[:WIDEN_TRIES]:
            trial = close_singletons(table, widened | {option}, previous, protection, unpublished)
            check = audit(table, trial, protection, unpublished=unpublished, only={failure.cell})
            width = check.intervals[0].width if check.intervals else math.inf
            if best is None or width > best[0]:
                best = (width, trial)
            if width >= protection:
                break
        if best is not None:
            widened = best[1]
    return widened


def suppress(
    table: AuditableTable,
    *,
    k: int,
    protection: float,
    hidden_rows: Iterable[str] = (),
    rates: Iterable[tuple[str, str]] = (),
    previous: Iterable[Cell] = (),
    max_rounds: int = 50,
) -> Suppression:
    """Primary, complementary and audit-driven suppression; ``audit.passed`` says whether the
    table may be released. ``rates``: (numerator, denominator) columns published only as a
    ratio; ``previous``: the cells suppressed in the last snapshot."""
    before = frozenset(previous)
    pairs = tuple(rates)
    primary = primary_cells(table, k, hidden_rows)
    hidden = set(primary)
    while True:
        unpublished = frozenset(unpublished_cells(table, hidden, pairs))
        closed = close_singletons(table, hidden, before, protection, unpublished)
        result = audit(table, closed, protection, unpublished=unpublished)
        rounds = 1
        while not result.passed and rounds < max_rounds:
            widened = _widen(table, closed, result, before, unpublished, protection)
            if widened == closed:
                break
            closed = widened
            result = audit(table, closed, protection, unpublished=unpublished)
            rounds += 1
        # A complementary cell may have hidden one count of a rate: its partner is then
        # unpublished too, which only adds unknowns; recompute until stable.
        if frozenset(unpublished_cells(table, closed, pairs)) <= unpublished or not pairs:
            break
        hidden = closed
    return Suppression(
        primary=frozenset(primary),
        complementary=frozenset(closed - primary),
        audit=result,
        rounds=rounds,
        unpublished=unpublished - closed,
    )
