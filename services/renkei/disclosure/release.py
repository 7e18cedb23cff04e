"""One snapshot release: table → suppression → audit → perturbed ``derived.region-snapshot``.

:func:`release_table` is the whole decision for one municipality, pure (no Kafka): it raises
:class:`ReleaseRefused` rather than return a table whose audit failed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from renkei.disclosure.audit import AuditResult
from renkei.disclosure.perturbation import DEFAULT_ALPHA, perturbed
from renkei.disclosure.suppression import Suppression, suppress
from renkei.disclosure.table import (
    AGE_GROUPS,
    BANDS,
    RATES,
    TOTAL,
    UNALLOCATED,
    UNKNOWN_AGE,
    Cell,
    SnapshotTable,
    cell_name,
)
from renkei.privacy.protection import K_THRESHOLD

SNAPSHOT_TOPIC = "derived.region-snapshot"
SHOWN_COUNTS = (
    "population",
    *AGE_GROUPS,
    "households",
    "households_with_children_under_15",
    "evacuation_support_candidates",
    "checkup_participants",
)
METHOD = "cell-key, two-sided geometric, table-keyed"


@dataclass(frozen=True)
class DisclosureRules:
    """The parameters of disclosure control (docs/disclosure-control.md)."""

    k: int = K_THRESHOLD
    """Smallest count shown (primary suppression below it)."""
    protection: int = K_THRESHOLD
    """Smallest width of a suppressed cell's feasible interval the audit accepts."""
    alpha: float = DEFAULT_ALPHA
    """Ratio of the two-sided geometric perturbation (0: none would be allowed; 1/3 default)."""
    max_rounds: int = 50

    def __post_init__(self) -> None:
        if self.k < 1 or self.protection < 1:
            raise ValueError("k and the protection interval must be at least 1")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError("alpha must lie strictly between 0 and 1")


class ReleaseRefused(RuntimeError):
    """A table whose audit failed: nothing of it is published."""

    def __init__(self, municipality: str, result: AuditResult):
        self.municipality = municipality
        self.result = result
        worst = result.failures[0]
        super().__init__(
            f"{municipality}: {len(result.failures)} suppressed cell(s) narrower than the "
            f"protection interval {result.protection:g} (e.g. {cell_name(worst.cell)}: "
            f"[{worst.low:g}, {worst.high:g}]); the snapshot is not released"
        )


@dataclass(frozen=True)
class Release:
    """The audited, perturbed record of one municipality and how it was protected."""

    municipality: str
    record: dict[str, Any]
    suppression: Suppression
    table: SnapshotTable
    """The raw table (inside the job only: it is never published)."""
    shown: dict[Cell, int]
    """The published (perturbed) value of each shown cell."""

    def published_value(self, cell: Cell) -> int:
        return self.shown[cell]


def _figures(
    table: SnapshotTable,
    row: str,
    hidden: frozenset[Cell],
    shown: dict[Cell, int],
) -> dict[str, Any]:
    """One published row: shown counts (perturbed), rates of shown pairs, ``suppressed``."""
    suppressed: list[str] = []

    def count(column: str, name: str) -> int | None:
        if (row, column) in hidden:
            suppressed.append(name)
            return None
        return shown[(row, column)]

    figures: dict[str, Any] = {
        "region_code": table.municipality if row == TOTAL else row,
        "level": "municipality" if row == TOTAL else "town",
    }
    for column in SHOWN_COUNTS:
        figures[column] = count(column, column)
    bands = [*BANDS]
    if table.value((row, f"band:{UNKNOWN_AGE}")) or (row, f"band:{UNKNOWN_AGE}") in hidden:
        bands.append(UNKNOWN_AGE)
    figures["age_bands"] = [
        {"band": band, "count": count(f"band:{band}", f"age_bands.{band}")} for band in bands
    ]
    for rate, (numerator, denominator) in RATES.items():
        if (row, numerator) in hidden or (row, denominator) in hidden:
            figures[rate] = None
            suppressed.append(rate)
        else:
            value = shown[(row, numerator)] / shown[(row, denominator)]
            figures[rate] = round(min(value, 1.0), 4)
    figures["suppressed"] = suppressed
    return figures


def release_table(
    table: SnapshotTable,
    rules: DisclosureRules,
    secret: bytes,
    *,
    recorded_at: dt.datetime,
    reference_date: dt.date,
    previous: frozenset[Cell] = frozenset(),
) -> Release:
    """The audited ``derived.region-snapshot`` datum of ``table`` (ReleaseRefused otherwise)."""
    suppression = suppress(
        table,
        k=rules.k,
        protection=rules.protection,
        hidden_rows=(UNALLOCATED,),
        rates=tuple(RATES.values()),
        previous=previous,
        max_rounds=rules.max_rounds,
    )
    if not suppression.audit.passed:
        raise ReleaseRefused(table.municipality, suppression.audit)
    hidden = suppression.hidden
    shown = {
        cell: perturbed(
            table.value(cell), rules.k, secret, table.digest, cell_name(cell), rules.alpha
        )
        for cell in table.cells
        if cell not in hidden and cell[0] != UNALLOCATED
    }
    narrowest = suppression.audit.narrowest
    record = {
        "event_id": str(uuid.uuid4()),
        "municipality_code": table.municipality,
        "effective_date": reference_date,
        "recorded_at": recorded_at,
        "sequence": int(recorded_at.timestamp() * 1000),
        "checkup_fiscal_year": table.fiscal_year,
        "k_threshold": rules.k,
        "protection_interval": rules.protection,
        "perturbation": {"method": METHOD, "alpha": rules.alpha},
        "audit": {
            "passed": True,
            "primary_cells": len(suppression.primary),
            "complementary_cells": len(suppression.complementary),
            "linear_programs": suppression.audit.solves,
            "narrowest_interval": None if narrowest is None else min(narrowest.width, 1e9),
        },
        "regions": [_figures(table, row, hidden, shown) for row in (*table.towns, TOTAL)],
    }
    return Release(table.municipality, record, suppression, table, shown)


def suppressed_cells(record: dict[str, Any]) -> frozenset[Cell]:
    """The cells a published record suppressed (for the next snapshot's stable pattern)."""
    names = {**{c: c for c in SHOWN_COUNTS}}
    cells: set[Cell] = set()
    for region in record.get("regions") or []:
        row = TOTAL if region.get("level") == "municipality" else str(region["region_code"])
        for name in region.get("suppressed") or []:
            if name.startswith("age_bands."):
                cells.add((row, f"band:{name.removeprefix('age_bands.')}"))
            elif name in names:
                cells.add((row, name))
            elif name in RATES:
                cells.update((row, column) for column in RATES[name])
    return frozenset(cells)
