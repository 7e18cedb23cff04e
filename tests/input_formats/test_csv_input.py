"""CSV input: a CP932 change export and snapshot diff, through the real mapping files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from renkei.cli import cli
from renkei.input_formats.csv_events import CsvEventBuilder
from renkei.input_formats.csv_mapping import load_mapping
from renkei.input_formats.csv_rows import read_csv_rows
from renkei.input_formats.snapshot_diff import diff_snapshots
from renkei.schemas.catalogue import Catalogue
from renkei.schemas.models import RecordValidator

REPO = Path(__file__).resolve().parents[2]
IDOU = REPO / "deploy" / "mappings" / "jumin-kiroku-idou.yaml"
SNAPSHOT = REPO / "deploy" / "mappings" / "jumin-kiroku-snapshot.yaml"
TOPIC = "registry.resident.events"
SNAPSHOT_HEADER = (
    "統合宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,住民種別,郵便番号,住所,方書,世帯番号,続柄,"
    "支援措置"
)

HEADER = (
    "統合宛名番号,異動日,処理日時,異動事由,氏,名,氏カナ,名カナ,生年月日,性別,住民種別,郵便番号,"
    "住所,方書,世帯番号,続柄,前住所市町村コード,前住所,転出先市町村コード,転出先住所,支援措置"
)
ROWS = [
    # 転入 with half-width kana, 和暦 birth date, full-width address, 〒 postal code
    "000000012345678,R8.10.1,2026-10-09 10:42:17,転入,高橋,健一,ﾀｶﾊｼ,ｹﾝｲﾁ,昭和55年4月1日,男,日本人,"
    "〒064-0941,北海道札幌市中央区旭ケ丘５丁目６番５１号,旭ケ丘ハイツ203,0001023454,世帯主,131016,"
    "東京都千代田区麹町3丁目2番1号,,,無",
    # 転出
    "000000012345679,令和8年10月2日,,転出,,,,,,,,,,,,,,,141526,神奈川県相模原市中央区中央2丁目11番15号,",
    # 死亡
    "000000012345680,R08.10.03,,死亡,,,,,,,,,,,,,,,,,",
    # bad: unknown reason, bad date
    "000000012345681,R8.2.30,,転入,,,,,,,,,,,,,,,,,",
    "000000012345682,R8.10.3,,改製,,,,,,,,,,,,,,,,,",
]


def _cp932(lines: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode("cp932")


def test_change_export_rows_become_valid_events(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "idou.csv"
    path.write_bytes(_cp932(ROWS) + b"000000012345683,R8.10.4,,\x82\xff\r\n")
    spec = catalogue.get(TOPIC)
    builder = CsvEventBuilder(load_mapping(IDOU), spec, imported_at=_now())
    with path.open("rb") as stream:
        lines = [builder.build(row) for row in read_csv_rows(stream, "cp932")]
    validator = RecordValidator(spec.schema)
    moved_in, moved_out, died, bad_date, bad_reason, bad_bytes = lines
    event = validator.validate(moved_in.value)
    assert event["event_type"] == "moved_in"
    assert event["effective_date"].isoformat() == "2026-10-01"
    assert event["recorded_at"].isoformat() == "2026-10-09T10:42:17+09:00"
    assert event["detail"]["person"]["family_name_kana"] == "ﾀｶﾊｼ"  # kept as recorded
    assert event["detail"]["person"]["birth_date"] == "昭和55年4月1日"
    assert event["detail"]["address"]["postal_code"] == "0640941"
    assert event["detail"]["household"]["is_head"] is True
    assert event["detail"]["protection"]["protected"] is False  # 支援措置 column: 無 (stated)
    assert validator.validate(moved_out.value)["detail"]["next_municipality_code"] == "141526"
    assert validator.validate(died.value)["detail"]["date_of_death"].isoformat() == "2026-10-03"
    assert bad_date.value is None and bad_date.problems[0][0] == "effective_date"
    assert bad_reason.value is None and "not in the mapping" in bad_reason.problems[0][1]
    assert bad_bytes.number == 7 and "not valid CP932" in bad_bytes.problems[0][1]


def test_the_same_file_imported_twice_gives_the_same_event_ids(catalogue: Catalogue) -> None:
    spec, mapping = catalogue.get(TOPIC), load_mapping(IDOU)

    def ids() -> list[str]:
        builder = CsvEventBuilder(mapping, spec, imported_at=_now())
        rows = read_csv_rows(__import__("io").BytesIO(_cp932(ROWS[:3])), "cp932")
        return [builder.build(row).value["event_id"] for row in rows]  # type: ignore[index]

    assert ids() == ids()


def test_snapshot_diff_derives_the_changes(catalogue: Catalogue) -> None:
    import io

    header = SNAPSHOT_HEADER
    stay = "000000000000101,山田,太郎,ﾔﾏﾀﾞ,ﾀﾛｳ,S50.1.1,男,日本人,0640941,北海道札幌市中央区旭ケ丘1丁目1番1号,,0000000011,世帯主,無"
    moves = "000000000000102,山田,花子,ﾔﾏﾀﾞ,ﾊﾅｺ,S52.2.2,女,日本人,0640941,北海道札幌市中央区旭ケ丘1丁目1番1号,,0000000011,妻,無"
    leaves = "000000000000103,佐藤,一郎,ｻﾄｳ,ｲﾁﾛｳ,H1.3.3,男,日本人,0640941,北海道札幌市中央区旭ケ丘2丁目2番2号,,0000000022,世帯主,無"
    arrives = "000000000000104,鈴木,次郎,ｽｽﾞｷ,ｼﾞﾛｳ,H2.4.4,男,日本人,0640941,北海道札幌市中央区旭ケ丘3丁目3番3号,,0000000033,世帯主,無"
    moved = moves.replace("1丁目1番1号,,0000000011,妻", "4丁目4番4号,,0000000044,世帯主")
    renamed = stay.replace("山田,太郎,ﾔﾏﾀﾞ,ﾀﾛｳ", "山田,太朗,ﾔﾏﾀﾞ,ﾀﾛｳ")
    old = "\n".join([header, stay, moves, leaves]).encode("cp932")
    new = "\n".join([header, renamed, moved, arrives]).encode("cp932")
    spec = catalogue.get(TOPIC)
    builder = CsvEventBuilder(load_mapping(SNAPSHOT), spec, imported_at=_now())
    import datetime as dt

    lines = list(
        diff_snapshots(
            builder,
            read_csv_rows(io.BytesIO(old), "cp932"),
            read_csv_rows(io.BytesIO(new), "cp932"),
            dt.date(2026, 10, 1),
        )
    )
    validator = RecordValidator(spec.schema)
    events = {
        (e["resident_key"], e["event_type"]): e
        for e in (validator.validate(x.value) for x in lines)
    }
    assert set(events) == {
        ("000000000000101", "corrected"),
        ("000000000000102", "moved_within"),
        ("000000000000104", "moved_in"),
        ("000000000000103", "moved_out"),
    }
    assert events[("000000000000101", "corrected")]["detail"]["corrected_fields"] == [
        "detail.person.given_name"
    ]
    assert all(e["effective_date"] == dt.date(2026, 10, 1) for e in events.values())


def test_publish_csv_dry_run_reports_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "idou.csv"
    path.write_bytes(_cp932(ROWS))
    result = CliRunner().invoke(
        cli, ["publish", "--format", "csv", "--mapping", str(IDOU), "--dry-run", TOPIC, str(path)]
    )
    assert result.exit_code == 1
    assert "5 lines, 3 valid, 2 invalid (dry run" in result.output
    assert "line 5: effective_date:" in result.output
    assert "line 6: event_type: value not in the mapping" in result.output


def test_a_mapping_for_another_topic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(_cp932([]))
    result = CliRunner().invoke(
        cli, ["publish", "--mapping", str(IDOU), "--dry-run", "health.checkup.results", str(path)]
    )
    assert (
        result.exit_code == 2 and "the mapping is for 'registry.resident.events'" in result.output
    )


def _now():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime(2026, 10, 9, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    from renkei.schemas.catalogue import load_catalogue

    return load_catalogue(REPO / "schemas" / "avro")


def _snapshot_row(key: str, address: str, shien: str, name: str = "太郎") -> str:
    return (
        f"{key},山田,{name},ﾔﾏﾀﾞ,ﾀﾛｳ,S50.1.1,男,日本人,0640941,北海道札幌市中央区旭ケ丘{address},,"
        f"00000{key[-5:]},世帯主,{shien}"
    )


def _diff(catalogue: Catalogue, old: list[str], new: list[str]) -> list[Any]:
    import datetime as dt
    import io

    spec = catalogue.get(TOPIC)
    builder = CsvEventBuilder(load_mapping(SNAPSHOT), spec, imported_at=_now())
    lines = diff_snapshots(
        builder,
        read_csv_rows(io.BytesIO("\n".join([SNAPSHOT_HEADER, *old]).encode("cp932")), "cp932"),
        read_csv_rows(io.BytesIO("\n".join([SNAPSHOT_HEADER, *new]).encode("cp932")), "cp932"),
        dt.date(2026, 10, 1),
    )
    return list(lines)


def test_snapshot_diff_states_the_protection_of_every_address_it_introduces(
    catalogue: Catalogue,
) -> None:
    """The snapshot mapping's 支援措置 column fills ``protection`` like the change export's
    (issue 12: a protected address is never published before its status)."""
    old = [
        _snapshot_row("000000000000201", "1丁目1番1号", "無"),
        _snapshot_row("000000000000202", "2丁目2番2号", "有"),
        _snapshot_row("000000000000203", "3丁目3番3号", "無"),
        _snapshot_row("000000000000204", "4丁目4番4号", ""),
    ]
    new = [
        _snapshot_row("000000000000201", "1丁目1番1号", "有"),  # measure set, same address
        _snapshot_row("000000000000202", "2丁目2番2号", "無"),  # measure ended
        _snapshot_row("000000000000203", "5丁目5番5号", "有"),  # 転居 to a protected address
        _snapshot_row("000000000000204", "4丁目4番4号", "無"),  # stated later: no event
        _snapshot_row("000000000000205", "6丁目6番6号", "有"),  # 転入, protected
        _snapshot_row("000000000000206", "7丁目7番7号", ""),  # 転入, not stated
        _snapshot_row("000000000000207", "8丁目8番8号", "無"),  # 転入, stated: not protected
    ]
    validator = RecordValidator(catalogue.get(TOPIC).schema)
    events = {
        (e["resident_key"][-3:], e["event_type"]): e
        for e in (validator.validate(line.value) for line in _diff(catalogue, old, new))
    }
    assert set(events) == {
        ("201", "protection_set"),
        ("202", "protection_lifted"),
        ("203", "moved_within"),
        ("205", "moved_in"),
        ("206", "moved_in"),
        ("207", "moved_in"),
    }
    measure = events[("201", "protection_set")]["detail"]
    assert measure["measure"] == "その他" and measure["named_resident_keys"] == []
    assert measure["valid_until"].isoformat() == "2027-09-30"  # one year from the export
    assert events[("203", "moved_within")]["detail"]["protection"]["protected"] is True
    assert events[("205", "moved_in")]["detail"]["protection"]["protected"] is True
    assert events[("206", "moved_in")]["detail"]["protection"] is None  # not stated
    assert events[("207", "moved_in")]["detail"]["protection"]["protected"] is False


def test_snapshot_diff_refuses_a_key_listed_twice_in_the_new_export(
    catalogue: Catalogue,
) -> None:
    twice = _snapshot_row("000000000000301", "1丁目1番1号", "無")
    lines = _diff(catalogue, [], [twice, twice.replace("太郎", "次郎")])
    assert [line.value["event_type"] for line in lines if line.value] == ["moved_in"]
    (problem,) = [line for line in lines if line.value is None]
    assert problem.number == 3 and "already on line 2" in problem.problems[0][1]
