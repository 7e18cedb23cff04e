"""The audit: what an attacker can still work out about each suppressed cell.

For every suppressed cell, the smallest and largest value it can take given every shown cell
and the table's relations (``table.py``: sums along rows and columns, the inequalities, all
cells ≥ 0) — two linear programs per cell, as τ-ARGUS audits its tables, solved with HiGHS.
The cell is protected when that feasible interval is at least ``protection`` wide; the snapshot
is released only when every suppressed cell is.

The linear programs hold only the suppressed cells as variables (a shown cell is a constant),
split into independent groups (cells linked by a relation), and each group's model is solved
once per bound with only its objective changed, so HiGHS starts from the previous basis.

The intervals are those of the LP relaxation (as τ-ARGUS): an integer solution can sometimes be
narrower. The published values of shown cells are perturbed (``perturbation.py``), but the
audit treats them as exact: what it proves holds even without the perturbation.
"""

from __future__ import annotations

import math
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import highspy
import numpy as np

from renkei.disclosure.table import Cell, Relation
from renkei.errors import RenkeiError

BATCH_ROUNDS = 200


class AuditableTable(Protocol):
    """What the audit needs of a table."""

    @property
    def cells(self) -> list[Cell]: ...

    def value(self, cell: Cell) -> int: ...

    @property
    def equalities(self) -> tuple[Relation, ...]: ...

    @property
    def inequalities(self) -> tuple[Relation, ...]: ...


@dataclass(frozen=True)
class Interval:
    """The feasible interval of one suppressed cell (``high`` may be ``math.inf``)."""

    cell: Cell
    low: float
    high: float
    value: int
    exact: bool = True
    """False: a sub-interval proven by feasible tables already found (it is at least this wide:
    the cell is protected, its own two LPs were not needed)."""

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class AuditResult:
    """Every suppressed cell's interval, and those narrower than ``protection``."""

    protection: float
    intervals: tuple[Interval, ...]
    solves: int
    failures: tuple[Interval, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def narrowest(self) -> Interval | None:
        return min(self.intervals, key=lambda i: i.width, default=None)


_BANNER_SHOWN = False


def _new_highs() -> highspy.Highs:
    """A silent HiGHS model. HiGHS prints its banner to the process's stdout (C level) on the
    first model, which would corrupt a command's ``--json`` output: that one is muted."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


class _UnionFind:
    def __init__(self, items: Iterable[Cell]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: Cell) -> Cell:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: Cell, b: Cell) -> None:
        self.parent[self.find(a)] = self.find(b)


Reduced = list[tuple[list[tuple[Cell, int]], float]]
"""Relations over hidden cells only: (terms, right-hand side)."""


def _reduced(relations: Sequence[Relation], hidden: set[Cell], table: AuditableTable) -> Reduced:
    """Each relation with a hidden cell: (its hidden terms, − Σ shown terms)."""
    out = []
    for relation in relations:
        terms = [(cell, coef) for cell, coef in relation if cell in hidden]
        if terms:
            known = sum(coef * table.value(cell) for cell, coef in relation if cell not in hidden)
            out.append((terms, float(-known)))
    return out


def _restricted(relations: Reduced, free: set[Cell], table: AuditableTable) -> Reduced:
    """``relations`` with every cell outside ``free`` fixed at its true value."""
    out = []
    for terms, rhs in relations:
        kept = [(c, k) for c, k in terms if c in free]
        if kept:
            fixed = sum(k * table.value(c) for c, k in terms if c not in free)
            out.append((kept, rhs - fixed))
    return out


def _solve_group(
    cells: list[Cell],
    equalities: Reduced,
    inequalities: Reduced,
    table: AuditableTable,
    protection: float,
    exact: bool,
    protect: set[Cell],
) -> tuple[list[Interval], int]:
    """Intervals of the ``protect`` cells among ``cells`` (the LP's variables), and the
    number of LPs solved.

    Every optimum found is a feasible table, so each cell's values across the optima found so
    far (and its true value) lie inside its feasible interval: once they span ``protection``,
    the cell is proven protected without its own LPs (unless ``exact``)."""
    index = {cell: i for i, cell in enumerate(cells)}
    h = _new_highs()
    # Only the objective changes between solves: the last basis stays primal feasible, so
    # primal simplex from it (no presolve, which would discard it) is the cheap re-solve.
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", 4)
    inf = highspy.kHighsInf
    h.addVars(len(cells), np.zeros(len(cells)), np.full(len(cells), inf))
    for rows, equality in ((equalities, True), (inequalities, False)):
        for terms, rhs in rows:
            idx = np.array([index[c] for c, _ in terms], dtype=np.int32)
            coefs = np.array([float(k) for _, k in terms])
            h.addRow(rhs if equality else -inf, rhs, len(terms), idx, coefs)
    seen_low = np.array([float(table.value(c)) for c in cells])
    seen_high = seen_low.copy()
    solves = 0

    def optimum(i: int, sense: highspy.ObjSense) -> float:
        nonlocal seen_low, seen_high, solves
        h.changeObjectiveSense(sense)
        h.run()
        solves += 1
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(h.getSolution().col_value)
            seen_low = np.minimum(seen_low, x)
            seen_high = np.maximum(seen_high, x)
            return float(h.getInfo().objective_function_value)
        unbounded = (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        )
        if sense == highspy.ObjSense.kMaximize and status in unbounded:
            return math.inf
        raise AuditModelError(
            f"the audit's model of {cells[i]} is not solvable: {h.modelStatusToString(status)}"
        )

    if not exact:
        _batches(cells, protect, protection, h, optimum, lambda: (seen_low, seen_high))
    intervals = []
    for i, cell in enumerate(cells):
        if cell not in protect:
            continue
        if not exact and seen_high[i] - seen_low[i] >= protection:
            intervals.append(
                Interval(cell, float(seen_low[i]), float(seen_high[i]), table.value(cell), False)
            )
            continue
        h.changeColCost(i, 1.0)
        high = optimum(i, highspy.ObjSense.kMaximize)
        if not exact and high - seen_low[i] >= protection:
            h.changeColCost(i, 0.0)
            intervals.append(Interval(cell, float(seen_low[i]), high, table.value(cell), False))
            continue
        low = optimum(i, highspy.ObjSense.kMinimize)
        h.changeColCost(i, 0.0)
        intervals.append(Interval(cell, max(0.0, low), high, table.value(cell), True))
    return intervals, solves


def _batches(
    cells: list[Cell],
    protect: set[Cell],
    protection: float,
    h: highspy.Highs,
    optimum: Callable[[int, highspy.ObjSense], float],
    seen: Callable[[], tuple[np.ndarray, np.ndarray]],
) -> None:
    """Push many unproven cells apart at once: maximize, then minimize, the sum of a batch of
    unproven cells that share no row and no column (so they hardly compete for the same
    slack). Each optimum is a feasible table; most cells are proven this way, and only the
    rest get LPs of their own."""
    everything = np.arange(len(cells), dtype=np.int32)
    wanted = np.array([cell in protect for cell in cells])
    stalled = 0
    for _ in range(BATCH_ROUNDS):
        low, high = seen()
        open_cells = [i for i in np.flatnonzero(wanted & (high - low < protection))]
        if len(open_cells) < 2:
            break
        rows: set[str] = set()
        columns: set[str] = set()
        weights = np.zeros(len(cells))
        for i in open_cells:
            row, column = cells[i]
            if row not in rows and column not in columns:
                rows.add(row)
                columns.add(column)
                weights[i] = 1.0
        h.changeColsCost(len(cells), everything, weights)
        optimum(0, highspy.ObjSense.kMaximize)
        optimum(0, highspy.ObjSense.kMinimize)
        low, high = seen()
        remaining = int((wanted & (high - low < protection)).sum())
        stalled = stalled + 1 if remaining > len(open_cells) - 2 else 0
        if stalled >= 3:
            break
    h.changeColsCost(len(cells), everything, np.zeros(len(cells)))


class AuditModelError(RenkeiError):
    """The audit could not be computed (a model the solver rejects): nothing is released."""


def _check_relations(table: AuditableTable) -> None:
    """The true values satisfy every relation (else the model is wrong: AuditModelError)."""
    for kind, relations in (("=", table.equalities), ("<=", table.inequalities)):
        for relation in relations:
            total = sum(coef * table.value(cell) for cell, coef in relation)
            if (kind == "=" and total != 0) or (kind == "<=" and total > 0):
                cells = ", ".join(f"{c[0]}|{c[1]}" for c, _ in relation[:3])
                raise AuditModelError(
                    f"the table's relations do not hold ({cells}, …: {total:+} {kind} 0)"
                )


def audit(
    table: AuditableTable,
    suppressed: Iterable[Cell],
    protection: float,
    *,
    exact: bool = False,
    unpublished: Iterable[Cell] = (),
    only: set[Cell] | None = None,
) -> AuditResult:
    """The feasible interval of every cell in ``suppressed``; failures: narrower than
    ``protection``. ``exact``: solve both LPs of every cell (otherwise a cell already shown to
    span ``protection`` by other optima is not solved again). Raises :class:`AuditModelError` when
    the true values are not feasible (the table's relations do not hold: a bug, never a
    release). ``unpublished``: cells no figure shows that need no protection of their own
    (variables of the LPs, without an interval of their own). ``only``: compute the exact
    intervals of these suppressed cells alone (the others stay variables)."""
    _check_relations(table)
    protect = set(suppressed)
    hidden = protect | set(unpublished)
    if not protect:
        return AuditResult(protection, (), 0)
    equalities = _reduced(table.equalities, hidden, table)
    inequalities = _reduced(table.inequalities, hidden, table)
    groups = _UnionFind(hidden)
    for terms, _ in (*equalities, *inequalities):
        for cell, _coef in terms[1:]:
            groups.union(terms[0][0], cell)
    members: dict[Cell, list[Cell]] = defaultdict(list)
    for cell in sorted(hidden):
        members[groups.find(cell)].append(cell)
    rows_of: dict[Cell, tuple[list[tuple[list[tuple[Cell, int]], float]], ...]] = {
        root: ([], []) for root in members
    }
    for kind, rows in enumerate((equalities, inequalities)):
        for terms, rhs in rows:
            rows_of[groups.find(terms[0][0])][kind].append((terms, rhs))
    intervals: list[Interval] = []
    solves = 0
    for root, cells in members.items():
        eq, ineq = rows_of[root]
        targets = protect & set(cells) if only is None else only & set(cells)
        if targets:
            found, count = _solve_group(
                cells, eq, ineq, table, protection, exact or only is not None, targets
            )
            intervals += found
            solves += count
    for interval in intervals:
        if not interval.low - 1e-6 <= interval.value <= interval.high + 1e-6:
            raise AuditModelError(
                f"cell {interval.cell} = {interval.value} lies outside its feasible interval "
                f"[{interval.low}, {interval.high}]: the table's relations do not hold"
            )
    failures = tuple(i for i in intervals if i.width < protection - 1e-9)
    return AuditResult(protection, tuple(intervals), solves, failures)
