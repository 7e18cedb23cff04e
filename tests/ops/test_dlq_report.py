"""``renkei dlq report``: the rows a department's staff gets (pure logic; the live test reads
real DLQ topics)."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from renkei.agreements.model import load_agreements
from renkei.cli import cli
from renkei.contracts.dlq import SOURCE_POSITION_HEADER
from renkei.errors import ConfigurationError
from renkei.ops.dlq.entries import DlqEntry
from renkei.ops.dlq.report import COLUMNS, department_topics, reject_rows, render_csv
from renkei.settings import Settings


def _entry(key: bytes | None, headers: dict[str, str]) -> DlqEntry:
    return DlqEntry(
        "p.dlq.registry.resident.events",
        0,
        7,
        key,
        b'{"resident_key": "000000012345678", "detail": {"person": {"family_name": "\\u9ad8"}}}',
        tuple((name, value.encode()) for name, value in headers.items()),
    )


def test_a_publisher_reject_names_its_line_key_fields_and_reasons_only() -> None:
    entry = _entry(
        b"000000012345678",
        {
            "renkei.dlq.reason": "validation",
            "renkei.dlq.detail": "detail.person.sex: value not in the mapping of '性別'; "
            "effective_date: not a valid date",
            "renkei.dlq.stage": "publisher",
            "renkei.dlq.origin": "idou_20261001.csv line 12",
            "renkei.dlq.time": "2026-10-09T01:00:00.000+00:00",
        },
    )
    rows = reject_rows(entry, prefix="p.")
    assert [(r.source_position, r.resident_key, r.field) for r in rows] == [
        ("idou_20261001.csv line 12", "000000012345678", "detail.person.sex"),
        ("idou_20261001.csv line 12", "000000012345678", "effective_date"),
    ]
    assert rows[0].topic == "dlq.registry.resident.events"
    assert rows[1].reason == "not a valid date"
    text = render_csv(rows, "utf-8").decode()
    assert "高" not in text  # the record's values never reach the report


def test_a_stage_reject_names_the_position_the_department_stamped() -> None:
    entry = _entry(
        b"000000012345678",
        {
            SOURCE_POSITION_HEADER: "public.jumin_kiroku lsn 0/16C61A8",
            "renkei.dlq.reason": "standardization",
            "renkei.dlq.detail": "detail.household.relationship: kinship word not used",
            "renkei.dlq.stage": "standardize",
            "renkei.dlq.topic": "p.registry.resident.events",
            "renkei.dlq.partition": "3",
            "renkei.dlq.offset": "41",
        },
    )
    (row,) = reject_rows(entry)
    assert row.source_position == "public.jumin_kiroku lsn 0/16C61A8"
    assert (row.stage, row.reason_class) == ("standardize", "standardization")
    unstamped = _entry(
        b"k", {"renkei.dlq.topic": "t", "renkei.dlq.partition": "3", "renkei.dlq.offset": "41"}
    )
    assert reject_rows(unstamped)[0].source_position == "t [3] @41"


def test_keys_shaped_like_a_my_number_and_keyless_lines_are_not_shown() -> None:
    my_number = _entry(
        b"123456789018", {"renkei.dlq.detail": "resident_key: looks like a 個人番号"}
    )
    assert reject_rows(my_number)[0].resident_key == "************"
    keyless = _entry(
        b"idou.csv line 3",
        {"renkei.dlq.origin": "idou.csv line 3", "renkei.dlq.detail": "(line): not valid CP932"},
    )
    (row,) = reject_rows(keyless)
    assert (row.resident_key, row.field, row.reason) == ("", "(line)", "not valid CP932")


def test_cp932_csv_for_the_staff() -> None:
    entry = _entry(b"000000012345678", {"renkei.dlq.detail": "(row): a DELETE is not a 異動 …"})
    data = render_csv(reject_rows(entry), "cp932")
    table = list(csv.reader(io.StringIO(data.decode("cp932"))))
    assert table[0] == list(COLUMNS)
    assert table[1][4] == "a DELETE is not a 異動 …"
    assert data.endswith(b"\r\n")


def test_the_department_is_found_in_the_agreements() -> None:
    agreements = load_agreements(Settings().agreements_dir)
    # the live topic and its bulk lane: rejects of a first load are the department's too
    both = ["registry.resident.events", "registry.resident.events.bulk"]
    assert department_topics(agreements, "市民課") == both
    assert department_topics(agreements, "dept-registry") == both
    with pytest.raises(ConfigurationError, match=r"known: .*市民課"):
        department_topics(agreements, "総務課")
    result = CliRunner().invoke(cli, ["dlq", "report", "--department", "総務課"])
    assert result.exit_code == 2 and "no provider agreement" in result.output


def test_a_reason_holding_a_semicolon_stays_one_problem() -> None:
    detail = "(column 氏, bytes 16-35): bad; check the layout; effective_date: not a date"
    entry = _entry(b"k", {"renkei.dlq.detail": detail})
    assert [(r.field, r.reason) for r in reject_rows(entry)] == [
        ("(column 氏, bytes 16-35)", "bad; check the layout"),
        ("effective_date", "not a date"),
    ]
