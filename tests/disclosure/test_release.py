"""A snapshot record: what it shows, what it hides, and that it is a valid catalogue record."""

from __future__ import annotations

import datetime as dt
import io

import fastavro
import pytest

from renkei.disclosure.audit import audit
from renkei.disclosure.microdata import Person
from renkei.disclosure.release import (
    SNAPSHOT_TOPIC,
    DisclosureRules,
    ReleaseRefused,
    release_table,
    suppressed_cells,
)
from renkei.disclosure.suppression import Suppression, primary_cells
from renkei.disclosure.table import COLUMNS, TOTAL, UNALLOCATED, build_table
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings

TOWNS = [f"011011:06409{n:02d}" for n in range(41, 47)]
AT = dt.datetime(2026, 10, 2, 0, 5, tzinfo=dt.UTC)
DAY = dt.date(2026, 10, 1)


def _people() -> list[Person]:
    people = []
    for t, town in enumerate(TOWNS):
        for i in range(8 + 9 * t):
            people.append(
                Person(
                    f"{town}-{i}",
                    "011011",
                    town,
                    (7 * i + 3 * t) % 95,
                    head=i % 3 == 0,
                    child_household=i % 6 == 0,
                    candidate=i % 11 == 0,
                    checkup_fy=2026 if i % 2 else None,
                    metabolic=("meets", "none", "borderline")[i % 3] if i % 2 else None,
                )
            )
    people.append(Person("protected", "011011", None, 31, head=True))
    return people


@pytest.fixture(scope="module")
def release():  # type: ignore[no-untyped-def]
    table = build_table("011011", _people())
    return release_table(table, DisclosureRules(), b"r" * 32, recorded_at=AT, reference_date=DAY)


def test_the_record_is_a_valid_catalogue_record(release) -> None:  # type: ignore[no-untyped-def]
    spec = load_catalogue(Settings().schemas_dir).get(SNAPSHOT_TOPIC)
    parsed = fastavro.parse_schema(spec.schema)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, release.record)
    buffer.seek(0)
    back = fastavro.schemaless_reader(buffer, parsed)
    assert back["municipality_code"] == "011011"
    assert back["audit"]["passed"] is True
    assert len(back["regions"]) == len(TOWNS) + 1


def test_small_counts_and_their_complements_are_null(release) -> None:  # type: ignore[no-untyped-def]
    table = release.table
    regions = {r["region_code"]: r for r in release.record["regions"]}
    assert UNALLOCATED not in regions and regions["011011"]["level"] == "municipality"
    hidden = release.suppression.hidden
    for cell in table.cells:
        if cell[0] == UNALLOCATED:
            assert cell in release.suppression.primary
            continue
        if table.value(cell) < 10:
            assert cell in hidden, cell
    for code, region in regions.items():
        row = TOTAL if code == "011011" else code
        for column in ("population", "households", "age_0_14", "checkup_participants"):
            value = region[column]
            assert (value is None) == ((row, column) in hidden), (code, column)
            assert value is None or value >= 10
            assert (value is None) == (column in region["suppressed"])
        for band in region["age_bands"]:
            assert band["count"] is None or band["count"] >= 10
        meets, judged = (row, "metabolic_meets"), (row, "checkup_judged")
        if meets in hidden or judged in hidden:
            assert region["metabolic_syndrome_rate"] is None
            assert "metabolic_syndrome_rate" in region["suppressed"]


def test_the_published_pattern_is_read_back_for_the_next_snapshot(release) -> None:  # type: ignore[no-untyped-def]
    back = suppressed_cells(release.record)
    published = {c for c in release.suppression.suppressed if c[0] != UNALLOCATED}
    shown_columns = {c for c in published if not c[1].startswith(("eligible", "checkup_p"))}
    assert {c for c in shown_columns if c[1] in COLUMNS} - back <= {
        c for c in published if c[1] in ("metabolic_meets", "checkup_judged")
    }


def test_a_table_whose_audit_fails_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Suppression without complements (primary cells only): the audit fails on the margin
    population − shown bands, and nothing is released."""
    from renkei.disclosure import release as module

    def primary_only(table, *, k, protection, hidden_rows, **_):  # type: ignore[no-untyped-def]
        primary = frozenset(primary_cells(table, k, hidden_rows))
        return Suppression(primary, frozenset(), audit(table, primary, protection), 1)

    monkeypatch.setattr(module, "suppress", primary_only)
    table = build_table("011011", _people())
    with pytest.raises(ReleaseRefused, match="not released") as refused:
        release_table(table, DisclosureRules(), b"r" * 32, recorded_at=AT, reference_date=DAY)
    assert refused.value.result.failures
