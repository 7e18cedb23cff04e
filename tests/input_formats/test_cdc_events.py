"""Row changes of the legacy table → department events (pure logic; the live test runs the
real PostgreSQL, Debezium and Kafka Connect)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from renkei.input_formats.cdc_events import CdcEventBuilder, MappedChange
from renkei.input_formats.cdc_transactions import TransactionGrouper
from renkei.input_formats.csv_events import CsvEventBuilder
from renkei.input_formats.csv_mapping import CsvMapping, load_mapping
from renkei.input_formats.debezium import cell_text, parse_change, parse_marker
from renkei.schemas.catalogue import Catalogue
from renkei.schemas.models import RecordValidator
from tests.input_formats.debezium_envelopes import change, marker, row

REPO = Path(__file__).resolve().parents[2]
CDC = REPO / "deploy" / "mappings" / "jumin-kiroku-cdc.yaml"
KEY = "000000012345678"


def _builder(catalogue: Catalogue, mapping: CsvMapping | None = None) -> CdcEventBuilder:
    mapping = mapping or load_mapping(CDC)
    spec = catalogue.get("registry.resident.events")
    return CdcEventBuilder(mapping, CsvEventBuilder(mapping, spec, imported_at=dt.datetime.now()))


def _map(catalogue: Catalogue, raw: bytes, mapping: CsvMapping | None = None) -> MappedChange:
    return _builder(catalogue, mapping).map(parse_change(raw))


def _valid(catalogue: Catalogue, mapped: MappedChange) -> dict[str, Any]:
    assert mapped.outcome == "event", mapped
    return RecordValidator(catalogue.get("registry.resident.events").schema).validate(mapped.value)


def test_cells_look_like_an_export_of_the_table() -> None:
    parsed = parse_change(change("c", None, row(KEY, "転入", "2026-10-01")))
    assert parsed.after is not None
    assert parsed.after["ido_ymd"] == "2026-10-01"  # io.debezium.time.Date (days) → ISO
    assert parsed.after["katagaki"] == ""  # NULL → empty cell
    assert parsed.after["ido_renban"] == "1"
    assert parsed.position == "public.jumin_kiroku lsn 0/16C61A8"
    assert cell_text(1_791_542_537_000_500, "io.debezium.time.MicroTimestamp") == (
        "2026-10-09T10:42:17.000500"
    )


def test_insert_is_the_event_its_row_records(catalogue: Catalogue) -> None:
    moved_in = _valid(catalogue, _map(catalogue, change("c", None, row(KEY, "転入", "2026-10-01"))))
    assert moved_in["event_type"] == "moved_in"
    assert moved_in["effective_date"] == dt.date(2026, 10, 1)
    assert moved_in["sequence"] == 23880104  # the change's log position
    assert moved_in["recorded_at"].astimezone(dt.UTC).timestamp() == 1_791_500_000
    assert moved_in["detail"]["previous_municipality_code"] == "131016"
    born = _valid(
        catalogue,
        _map(catalogue, change("c", None, row(KEY, "出生", "2026-10-02", zokugara="子"))),
    )
    assert born["event_type"] == "born"  # an INSERT is not a move-in by itself


def test_snapshot_rows_are_not_move_ins(catalogue: Catalogue) -> None:
    snapshot = change("r", None, row(KEY, "転入", "2015-04-01"), tx=None)
    assert _map(catalogue, snapshot).outcome == "skipped"
    raw = yaml.safe_load(CDC.read_text(encoding="utf-8"))
    raw["cdc"]["snapshot"] = "as_recorded"
    as_recorded = CsvMapping.model_validate(raw)
    event = _valid(catalogue, _map(catalogue, snapshot, as_recorded))
    # the row's own last 異動 with its own date, under the id a live capture would have given
    assert (event["event_type"], event["effective_date"]) == ("moved_in", dt.date(2015, 4, 1))
    live = _map(catalogue, change("c", None, row(KEY, "転入", "2015-04-01"), lsn=99))
    assert str(event["event_id"]) == live.value["event_id"]  # type: ignore[index]


def test_update_is_the_new_異動_of_the_row_with_the_old_row_compared(
    catalogue: Catalogue,
) -> None:
    before = row(KEY, "転入", "2026-10-01")
    after = row(KEY, "転居", "2026-11-05", 2, jusho="北海道札幌市中央区旭ケ丘１丁目１番")
    moved = _valid(catalogue, _map(catalogue, change("u", before, after, lsn=30000000)))
    assert moved["event_type"] == "moved_within"
    assert moved["detail"]["address"]["address_text"] == "北海道札幌市中央区旭ケ丘１丁目１番"
    # an UPDATE of an unmapped column (更新端末) is no 異動: nothing is published
    touched = _map(catalogue, change("u", before, {**before, "koushin_tanmatsu": "T99"}))
    assert (touched.outcome, touched.why) == ("skipped", "no mapped column changed")
    # mapped data changed without a new 異動: refused, so the department sees it
    silent = _map(catalogue, change("u", before, {**before, "shi": "髙橋"}))
    assert silent.outcome == "rejected"
    assert silent.value == {"resident_key": KEY}  # no other value of the row is kept
    assert "no new 異動" in silent.problems[0][1]
    # without REPLICA IDENTITY FULL the old row is only the key
    blind = _map(catalogue, change("u", {"atena_no": KEY}, after))
    assert blind.outcome == "rejected" and "REPLICA IDENTITY FULL" in blind.problems[0][1]


def test_a_correction_supersedes_the_異動_the_old_row_recorded(catalogue: Catalogue) -> None:
    before = row(KEY, "転入", "2026-10-01")
    original = _map(catalogue, change("c", None, before)).value
    assert original is not None
    after = row(KEY, "誤記修正", "2026-10-20", 2, mei="謙一", mei_kana="ｹﾝｲﾁ")
    corrected = _valid(catalogue, _map(catalogue, change("u", before, after)))
    assert corrected["event_type"] == "corrected"
    assert str(corrected["detail"]["supersedes_event_id"]) == original["event_id"]
    assert corrected["detail"]["corrected_fields"] == ["detail.person.given_name"]
    assert corrected["detail"]["person"]["given_name"] == "謙一"
    assert corrected["detail"]["address"] is None  # unchanged parts are not repeated
    assert corrected["effective_date"] == dt.date(2026, 10, 1)  # the corrected 異動's date


def test_delete_is_neither_a_death_nor_a_move_out(catalogue: Catalogue) -> None:
    deleted = _map(catalogue, change("d", row(KEY, "死亡", "2026-10-03"), None))
    assert deleted.outcome == "rejected"
    assert deleted.value == {"resident_key": KEY}
    assert "DELETE is not a 異動" in deleted.problems[0][1]
    died = _valid(
        catalogue,
        _map(
            catalogue,
            change("u", row(KEY, "転入", "2026-10-01"), row(KEY, "死亡", "2026-10-03", 2)),
        ),
    )
    assert died["event_type"] == "died"  # a death is recorded in the row


def test_a_transaction_is_released_whole_in_commit_order() -> None:
    grouper = TransactionGrouper("public.jumin_kiroku")
    a, b = "600", "601"
    grouper.add_change(
        0, parse_change(change("c", None, row(KEY, "転入", "2026-10-01"), tx="600:100"))
    )
    grouper.add_marker(0, parse_marker(marker("BEGIN", "601:200")))
    # B's END before A's; Debezium's ids differ in their LSN part within one transaction
    grouper.add_marker(1, parse_marker(marker("END", "601:290", 1)))
    grouper.add_change(
        1, parse_change(change("c", None, row("000000012345679", "出生", "2026-10-01"), tx=b))
    )
    assert list(grouper.ready()) == []  # A still waits for its END: B waits behind it
    assert grouper.held_from() == (0, 1)
    grouper.add_change(
        2, parse_change(change("c", None, row("000000012345680", "転入", "2026-10-01"), tx=a))
    )
    grouper.add_marker(2, parse_marker(marker("END", a, 2)))
    released = list(grouper.ready())
    assert [(t.transaction_id, len(t.events)) for t in released] == [(a, 2), (b, 1)]
    assert grouper.held_from() == (None, None)
    snapshot = parse_change(change("r", None, row(KEY, "転入", "2015-04-01"), tx=None))
    grouper.add_change(3, snapshot)
    assert [t.events for t in grouper.ready()] == [[snapshot]]


def test_one_transaction_is_its_txid_whatever_the_lsn_part() -> None:
    first = parse_change(change("c", None, row(KEY, "転入", "2026-10-01"), tx="752:30977128"))
    second = parse_change(change("c", None, row(KEY, "転入", "2026-10-01"), tx="752:30977496"))
    end = parse_marker(marker("END", "752:30977904", 2))
    assert first.transaction_id == second.transaction_id == end.transaction_id == "752"


def test_a_transaction_without_its_marker_is_released_when_others_wait_behind_it() -> None:
    grouper = TransactionGrouper("public.jumin_kiroku", patience=30)
    grouper.add_change(0, parse_change(change("c", None, row(KEY, "転入", "2026-10-01"), tx="1:1")))
    grouper.add_change(1, parse_change(change("c", None, row(KEY, "転居", "2026-10-02"), tx="2:2")))
    grouper.add_marker(0, parse_marker(marker("END", "2:2", 1)))
    assert list(grouper.ready()) == []
    now = grouper._order[0].first_seen + 31
    assert [t.transaction_id for t in grouper.ready(now)] == ["1", "2"]
    assert grouper.released_incomplete == 1


@pytest.mark.parametrize(
    ("change_", "field"),
    [
        ({"ido_jiyu": "改製"}, "event_type"),  # a reason the mapping does not know
        ({"ido_ymd": None}, "effective_date"),
    ],
)
def test_bad_cells_are_refused_with_the_field(
    catalogue: Catalogue, change_: dict[str, Any], field: str
) -> None:
    mapped = _map(catalogue, change("c", None, row(KEY, "転入", "2026-10-01", **change_)))
    assert mapped.outcome == "rejected"
    assert mapped.problems[0][0] == field
    assert mapped.value == {"resident_key": KEY}


@pytest.mark.parametrize(("cell", "protected"), [("1", True), ("0", False), (None, None)])
def test_the_支援措置_column_states_protection_with_the_address(
    catalogue: Catalogue, cell: str | None, protected: bool | None
) -> None:
    """The status comes with the address (docs/privacy.md): a NULL cell is "not stated", which
    makes the platform withhold the address everywhere until a status arrives."""
    event = _valid(
        catalogue,
        _map(catalogue, change("c", None, row(KEY, "転入", "2026-10-01", shien_sochi=cell))),
    )
    stated = event["detail"].get("protection")
    assert (stated or {}).get("protected") == protected
    if protected is None:
        assert stated is None
