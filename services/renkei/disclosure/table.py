"""One municipality's snapshot table: its cells, their values and the relations between them.

Rows: each 町域 (region code ``<municipality>:<postal code>``), the never-shown row
``UNALLOCATED`` (町域不詳: residents under a 支援措置, and any resident without a 町域), and the
municipality itself (``TOTAL``). Columns (:data:`COLUMNS`): population, the 5-year age bands,
the four age groups, households, households with a child under 15, evacuation-support
candidates, and the checkup counts behind the two published rates.

The relations are what an attacker knows without being told (the table's additive structure):

- equalities: in each row, population = Σ bands, each age group = Σ its bands, 40–74 =
  Σ bands 40–44 … 70–74; in each column, the municipality = Σ 町域 + 町域不詳;
- inequalities: households with children ≤ households ≤ population, candidates ≤ population,
  checkup participants ≤ population, participants 40–74 ≤ participants and ≤ 40–74, judged ≤
  participants, metabolic "meets" ≤ judged; every cell ≥ 0.

A rate is published as two cells (numerator and denominator): the audit treats a shown rate as
showing both, which is what a reader who knows either can compute.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from renkei.disclosure.microdata import JUDGED, Person

UNALLOCATED = "町域不詳"
TOTAL = "total"
BANDS = (*(f"{lo}-{lo + 4}" for lo in range(0, 90, 5)), "90+")
UNKNOWN_AGE = "unknown"
AGE_GROUPS: dict[str, tuple[str, ...]] = {
    "age_0_14": BANDS[0:3],
    "age_15_64": BANDS[3:13],
    "age_65_74": BANDS[13:15],
    "age_75_plus": BANDS[15:],
}
ELIGIBLE_BANDS = BANDS[8:15]
"""40–44 … 70–74: the ages of 特定健診 (40–74)."""

BAND_COLUMNS = tuple(f"band:{b}" for b in (*BANDS, UNKNOWN_AGE))
COLUMNS = (
    "population",
    *BAND_COLUMNS,
    *AGE_GROUPS,
    "households",
    "households_with_children_under_15",
    "evacuation_support_candidates",
    "checkup_participants",
    "checkup_participants_40_74",
    "eligible_40_74",
    "checkup_judged",
    "metabolic_meets",
)
RATES: dict[str, tuple[str, str]] = {
    "checkup_participation_rate": ("checkup_participants_40_74", "eligible_40_74"),
    "metabolic_syndrome_rate": ("metabolic_meets", "checkup_judged"),
}
"""Published rate → (numerator column, denominator column)."""
_AT_MOST = (
    ("households_with_children_under_15", "households"),
    ("households", "population"),
    ("evacuation_support_candidates", "population"),
    ("checkup_participants", "population"),
    ("checkup_participants_40_74", "checkup_participants"),
    ("checkup_participants_40_74", "eligible_40_74"),
    ("checkup_judged", "checkup_participants"),
    ("metabolic_meets", "checkup_judged"),
)

Cell = tuple[str, str]
"""(row, column)."""
Relation = tuple[tuple[Cell, int], ...]
"""Σ coefficient × cell (= 0 for an equality, ≤ 0 for an inequality)."""


def band_of(age: int | None) -> str:
    if age is None:
        return UNKNOWN_AGE
    return "90+" if age >= 90 else BANDS[age // 5]


def cell_name(cell: Cell) -> str:
    """``011011:0640941|band:0-4``: a cell's id in audits and cell keys."""
    return f"{cell[0]}|{cell[1]}"


@dataclass(frozen=True)
class SnapshotTable:
    """The raw (unsuppressed) table of one municipality; never published as such."""

    municipality: str
    towns: tuple[str, ...]
    values: dict[Cell, int]
    fiscal_year: int | None
    digest: str
    """SHA-256 of the table's microdata: changes whenever any resident's counted data does."""
    equalities: tuple[Relation, ...] = field(default=())
    inequalities: tuple[Relation, ...] = field(default=())

    @property
    def rows(self) -> tuple[str, ...]:
        return (*self.towns, UNALLOCATED, TOTAL)

    @property
    def cells(self) -> list[Cell]:
        return [(row, column) for row in self.rows for column in COLUMNS]

    def value(self, cell: Cell) -> int:
        return self.values.get(cell, 0)


def person_counts(person: Person, fiscal_year: int | None) -> Counter[str]:
    """The columns one person adds to (each by one)."""
    counts: Counter[str] = Counter()
    counts["population"] += 1
    band = band_of(person.age)
    counts[f"band:{band}"] += 1
    for group, bands in AGE_GROUPS.items():
        counts[group] += int(band in bands)
    eligible = band in ELIGIBLE_BANDS
    counts["eligible_40_74"] += int(eligible)
    counts["households"] += int(person.head)
    counts["households_with_children_under_15"] += int(person.head and person.child_household)
    counts["evacuation_support_candidates"] += int(person.candidate)
    if fiscal_year is not None and person.checkup_fy == fiscal_year:
        counts["checkup_participants"] += 1
        counts["checkup_participants_40_74"] += int(eligible)
        counts["checkup_judged"] += int(person.metabolic in JUDGED)
        counts["metabolic_meets"] += int(person.metabolic == "meets")
    return +counts


def relations(rows: Iterable[str]) -> tuple[tuple[Relation, ...], tuple[Relation, ...]]:
    """(equalities, inequalities) of a table with these rows (the last is ``TOTAL``)."""
    rows = list(rows)
    parts = [r for r in rows if r != TOTAL]
    equalities: list[Relation] = []
    inequalities: list[Relation] = []
    for row in rows:
        equalities.append((((row, "population"), 1), *(((row, c), -1) for c in BAND_COLUMNS)))
        for group, bands in AGE_GROUPS.items():
            equalities.append((((row, group), 1), *(((row, f"band:{b}"), -1) for b in bands)))
        # Implied by the two above, but stated: suppression reads each relation on its own.
        equalities.append(
            (
                ((row, "population"), 1),
                ((row, f"band:{UNKNOWN_AGE}"), -1),
                *(((row, group), -1) for group in AGE_GROUPS),
            )
        )
        equalities.append(
            (((row, "eligible_40_74"), 1), *(((row, f"band:{b}"), -1) for b in ELIGIBLE_BANDS))
        )
        for small, large in _AT_MOST:
            inequalities.append((((row, small), 1), ((row, large), -1)))
    for column in COLUMNS:
        equalities.append((((TOTAL, column), 1), *(((r, column), -1) for r in parts)))
    return tuple(equalities), tuple(inequalities)


def _digest(people: list[Person], fiscal_year: int | None) -> str:
    h = hashlib.sha256(f"fy={fiscal_year}".encode())
    for p in sorted(people, key=lambda p: p.record_key):
        h.update(
            f"\0{p.record_key}|{p.town}|{band_of(p.age)}|{p.head:d}{p.child_household:d}"
            f"{p.candidate:d}|{p.checkup_fy}|{p.metabolic}".encode()
        )
    return h.hexdigest()


def build_table(municipality: str, people: list[Person]) -> SnapshotTable:
    """The table of one municipality from its residents (all with ``municipality``)."""
    years = [p.checkup_fy for p in people if p.checkup_fy is not None]
    fiscal_year = max(years) if years else None
    values: dict[Cell, int] = defaultdict(int)
    towns = sorted({p.town for p in people if p.town is not None})
    for person in people:
        row = person.town if person.town is not None else UNALLOCATED
        for column, n in person_counts(person, fiscal_year).items():
            values[(row, column)] += n
            values[(TOTAL, column)] += n
    equalities, inequalities = relations((*towns, UNALLOCATED, TOTAL))
    return SnapshotTable(
        municipality=municipality,
        towns=tuple(towns),
        values=dict(values),
        fiscal_year=fiscal_year,
        digest=_digest(people, fiscal_year),
        equalities=equalities,
        inequalities=inequalities,
    )


def build_tables(people: Iterable[Person]) -> dict[str, SnapshotTable]:
    """One table per municipality (or ward) code, sorted by code."""
    by_municipality: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        by_municipality[person.municipality].append(person)
    return {m: build_table(m, by_municipality[m]) for m in sorted(by_municipality)}
