"""Fixed-width (固定長) input: byte layouts in CP932, zoned and packed decimals, errors per
record, and the same mapping path and snapshot diff as CSV (no broker)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.cli import cli
from renkei.errors import ConfigurationError
from renkei.input_formats.csv_events import CsvEventBuilder
from renkei.input_formats.csv_mapping import CsvMapping, load_mapping
from renkei.input_formats.export_rows import read_export_rows
from renkei.input_formats.fixed_layout import FixedColumn, FixedLayout
from renkei.input_formats.fixed_rows import ColumnError, read_column
from renkei.input_formats.snapshot_diff import diff_snapshots
from renkei.schemas.catalogue import Catalogue
from renkei.schemas.models import RecordValidator
from tests.input_formats.fixed_records import (
    KENSHIN_FIXED,
    ZENKEN_FIXED,
    packed,
    record,
    resident,
    zoned,
)

NOW = dt.datetime(2026, 10, 9, 1, 0, tzinfo=dt.UTC)


def _rows(mapping: CsvMapping, data: bytes) -> list:  # type: ignore[type-arg]
    return list(read_export_rows(io.BytesIO(data), mapping))


def test_zenkaku_columns_are_cut_by_bytes_and_unpadded() -> None:
    mapping = load_mapping(ZENKEN_FIXED)
    data = record(ZENKEN_FIXED, resident("000000012345678")) + b"\r\n"
    (row,) = _rows(mapping, data)
    assert row.line == 1
    assert row.cells is not None
    assert row.cells["氏"] == "高橋"  # 4 bytes of 20, the rest 全角 spaces
    assert row.cells["氏カナ"] == "ﾀｶﾊｼ"  # half-width kana: one byte each, kept as recorded
    assert row.cells["住所"] == "北海道札幌市中央区旭ケ丘５丁目６番５１号"
    assert row.cells["続柄"] == "世帯主"
    assert row.cells["生年月日"] == "3550401"


def test_records_become_valid_events_through_the_csv_field_specs(catalogue: Catalogue) -> None:
    spec = catalogue.get("registry.resident.events")
    mapping = load_mapping(ZENKEN_FIXED)
    old = record(ZENKEN_FIXED, resident("000000012345678")) + b"\r\n"
    new = (
        record(ZENKEN_FIXED, resident("000000012345678", 住所="北海道札幌市中央区旭ケ丘１丁目１番"))
        + b"\r\n"
        + record(ZENKEN_FIXED, resident("000000012345679", 名="花子", 続柄="妻", 性別="2"))
        + b"\r\n"
    )
    builder = CsvEventBuilder(mapping, spec, imported_at=NOW)
    events = list(
        diff_snapshots(builder, _rows(mapping, old), _rows(mapping, new), dt.date(2026, 10, 1))
    )
    validator = RecordValidator(spec.schema)
    kinds = {}
    for line in events:
        assert line.value is not None, line.problems
        event = validator.validate(line.value)
        kinds[event["resident_key"]] = (event["event_type"], line.number)
    assert kinds == {"000000012345678": ("moved_within", 1), "000000012345679": ("moved_in", 2)}


def test_a_column_cutting_a_zenkaku_character_is_reported_with_its_bytes() -> None:
    mapping = load_mapping(ZENKEN_FIXED)
    good = record(ZENKEN_FIXED, resident("000000012345678"))
    # the family name column (bytes 16-35) holds 19 bytes of text and the first byte of a
    # 全角 character: the layout and the export disagree
    name = "高橋高橋高橋高橋高 ".encode("cp932") + "橋".encode("cp932")[:1]
    bad = good[:15] + name + good[35:]
    assert len(bad) == len(good)
    rows = _rows(mapping, good + b"\r\n" + bad + b"\r\nshort line\r\n")
    assert [r.line for r in rows] == [1, 2, 3]
    assert rows[0].cells is not None
    assert rows[1].cells is None
    ((path, reason),) = rows[1].problems
    assert path == "(column 氏, bytes 16-35)"
    assert "全角" in reason and "byte 35" in reason
    assert "高橋" not in reason  # reasons never echo the data
    ((path, reason),) = rows[2].problems
    assert path == "(line)" and "10 bytes" in reason and "253" in reason


def test_zoned_and_packed_decimals() -> None:
    def col(kind: str, length: int, scale: int = 0) -> FixedColumn:
        return FixedColumn(start=1, length=length, type=kind, scale=scale)  # type: ignore[arg-type]

    assert read_column(packed(1702, 3), col("packed", 3, 1), "cp932") == "170.2"
    assert read_column(packed(-125, 2), col("packed", 2), "cp932") == "-125"
    assert read_column(b"\x12\x3f", col("packed", 2), "cp932") == "123"  # F: unsigned
    assert read_column(zoned(852, 4), col("zoned", 4, 1), "cp932") == "85.2"
    assert read_column(zoned(-42, 3), col("zoned", 3), "cp932") == "-42"
    assert read_column(b"\xf0\xf4\xc2", col("zoned", 3), "cp932") == "42"  # EBCDIC-style zones
    assert read_column(b"   ", col("zoned", 3), "cp932") == ""  # blank: no value
    with pytest.raises(ColumnError, match="packed"):
        read_column(b"\x1a\x3c", col("packed", 2), "cp932")
    with pytest.raises(ColumnError, match="sign"):
        read_column(b"\x12\x34", col("packed", 2), "cp932")
    with pytest.raises(ColumnError, match="zoned"):
        read_column(b"4A2", col("zoned", 3), "cp932")


def test_length_read_records_with_packed_bytes_that_look_like_line_breaks(
    catalogue: Catalogue,
) -> None:
    spec = catalogue.get("health.checkup.results")
    mapping = load_mapping(KENSHIN_FIXED)
    values = {
        "統合宛名番号": "000000012345678",
        "健診日": "20261015",
        "年度": 2026,
        "年齢": 46,
        "性別": "1",
        "身長": 1700,
        # packed 00650 with sign A (an accepted plus): its last byte is 0x0A, a line feed
        "体重": b"\x00\x65\x0a",
        "腹囲": 852,
        "収縮期血圧": 128,
        "拡張期血圧": 82,
        "HbA1c": 58,
        "服薬血圧": "2",
        "服薬血糖": "2",
        "服薬脂質": "1",
        "メタボ判定": "2",
        "保健指導レベル": "3",
    }
    first = record(KENSHIN_FIXED, values)
    assert first[36:37] == b"\n"
    second = record(KENSHIN_FIXED, {**values, "統合宛名番号": "000000012345679", "体重": 6070})
    # a filler holding CR LF: still inside the record
    third = record(
        KENSHIN_FIXED, {**values, "統合宛名番号": "000000012345680", "予備": b"\r\n" + b" " * 10}
    )
    broken = bytearray(first)
    broken[41] = 0x1A  # 収縮期血圧 (bytes 42-43): a half-byte that is no digit
    data = first + second + third + bytes(broken) + first[:10]
    rows = _rows(mapping, data)
    assert [r.line for r in rows] == [1, 2, 3, 4, 5]
    assert rows[2].cells is not None and rows[2].cells["統合宛名番号"] == "000000012345680"
    builder = CsvEventBuilder(mapping, spec, imported_at=NOW)
    validator = RecordValidator(spec.schema)
    event = validator.validate(builder.build(rows[0]).value)
    assert event["height_cm"] == 170.0
    assert event["weight_kg"] == 65.0
    assert event["waist_cm"] == 85.2
    assert (event["systolic_bp"], event["diastolic_bp"]) == (128, 82)
    assert event["hba1c_ngsp"] == 5.8
    assert event["medication_lipid"] is True and event["medication_bp"] is False
    assert event["metabolic_syndrome"] == "borderline"
    assert validator.validate(builder.build(rows[1]).value)["weight_kg"] == 607.0
    assert rows[3].cells is None
    ((path, reason),) = rows[3].problems
    assert path == "(column 収縮期血圧, bytes 42-43)" and "packed" in reason
    ((path, reason),) = rows[4].problems
    assert "10 bytes" in reason and "64" in reason


def test_layouts_that_cannot_be_right_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="overlap"):
        FixedLayout(
            columns={"a": FixedColumn(start=1, length=4), "b": FixedColumn(start=4, length=2)}
        )
    with pytest.raises(ValueError, match="record_length"):
        FixedLayout(columns={"a": FixedColumn(start=1, length=4, type="packed")})
    with pytest.raises(ValueError, match="past record_length"):
        FixedLayout(columns={"a": FixedColumn(start=1, length=4)}, record_length=3)
    path = tmp_path / "m.yaml"
    path.write_text(
        "topic: registry.resident.events\nformat: fixed\nsource_system: x\n"
        "layout: {columns: {宛名: {start: 1, length: 15}}}\n"
        "fields: {resident_key: {column: 統合宛名番号}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="統合宛名番号"):
        load_mapping(path)


def test_publish_dry_run_reports_bad_records_by_line(tmp_path: Path) -> None:
    good = record(ZENKEN_FIXED, resident("000000012345678"))
    bad = good[:102] + b"9" + good[103:]  # 性別 9: not in the mapping's map
    path = tmp_path / "zenken.dat"
    path.write_bytes(good + b"\r\n" + bad + b"\r\n")
    empty = tmp_path / "empty.dat"
    empty.write_bytes(b"")
    args = [
        "publish",
        "--format",
        "fixed",
        "--mapping",
        str(ZENKEN_FIXED),
        "--diff-against",
        str(empty),
        "--dry-run",
        "registry.resident.events",
        str(path),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "line 2: detail.person.sex: value not in the mapping of '性別'" in result.output
    assert "2 lines, 1 valid, 1 invalid" in result.output
    wrong = CliRunner().invoke(cli, [*args[:2], "csv", *args[3:]])
    assert wrong.exit_code == 2 and "format 'fixed'" in wrong.output
