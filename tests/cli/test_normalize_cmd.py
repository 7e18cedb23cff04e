"""``renkei normalize address|date``: JSON lines, order, error lines and exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from renkei.cli.normalize_cmd import normalize
from renkei.normalize.addresses import AddressIndex

ADDRESS_FIELDS = [
    "input",
    "municipality_code",
    "region_code",
    "prefecture",
    "city",
    "town",
    "chome",
    "rest",
    "postal_code",
    "building",
]


@pytest.fixture(scope="module", autouse=True)
def _index_loaded() -> None:
    AddressIndex.default()  # load once for the module, not inside a timed test


def run(*args: str, stdin: str | None = None) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(normalize, list(args), input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, lines, result.stdout


def test_address_text_prints_all_fields_in_order() -> None:
    code, lines, raw = run("address", "〒064-0941 札幌市中央区旭ヶ丘５－６－５１ サンハイツ201")
    assert code == 0
    assert lines == [
        {
            "input": "〒064-0941 札幌市中央区旭ヶ丘５－６－５１ サンハイツ201",
            "municipality_code": "011011",
            "region_code": "011011:0640941",
            "prefecture": "北海道",
            "city": "札幌市中央区",
            "town": "旭ケ丘",
            "chome": 5,
            "rest": "6-51",
            "postal_code": "0640941",
            "building": "サンハイツ201",
        }
    ]
    assert list(lines[0]) == ADDRESS_FIELDS
    assert "札幌市中央区" in raw  # ensure_ascii=False: no \\u escapes


def test_address_text_that_cannot_be_resolved_exits_1() -> None:
    code, lines, _ = run("address", "府中市宮西町1-1")
    assert code == 1
    assert lines == [
        {
            "input": "府中市宮西町1-1",
            "error": "municipality name is used in several prefectures; "
            "give the prefecture or the postal code",
        }
    ]


def test_address_postal_code_option_disambiguates() -> None:
    code, lines, _ = run("address", "府中市宮西町1-1", "--postal-code", "183-0022")
    assert code == 0
    assert lines[0]["region_code"] == "132063:1830022"


def test_address_stdin_keeps_order_and_reports_error_lines() -> None:
    stdin = "札幌市中央区旭ケ丘5-6-51\nほげほげ\n\n東京都千代田区丸の内1-1-1\n府中市宮西町1-1\n"
    code, lines, _ = run("address", "-", stdin=stdin)
    assert code == 1
    assert [line["input"] for line in lines] == [
        "札幌市中央区旭ケ丘5-6-51",
        "ほげほげ",
        "",
        "東京都千代田区丸の内1-1-1",
        "府中市宮西町1-1",
    ]
    assert [line.get("region_code") for line in lines] == [
        "011011:0640941",
        None,
        None,
        "131016:1000005",
        None,
    ]
    assert [sorted(line) for line in lines if "error" in line] == [["error", "input"]] * 3


def test_address_stdin_all_resolved_exits_0_and_handles_crlf() -> None:
    code, lines, _ = run("address", "-", stdin="千代田区丸の内1-1-1\r\n横浜市中区山下町123\r\n")
    assert code == 0
    assert [line["municipality_code"] for line in lines] == ["131016", "141046"]
    assert lines[1]["input"] == "横浜市中区山下町123"


def test_address_postal_code_option_refused_with_stdin() -> None:
    result = CliRunner().invoke(normalize, ["address", "-", "--postal-code", "1830022"], input="")
    assert result.exit_code == 2
    assert "--postal-code" in result.output


def test_address_stdin_many_lines_one_result_each() -> None:
    """Thousands of lines through one process, one result line per input line, in order.
    (Its speed is measured by a benchmark, not asserted here.)"""
    texts = ["札幌市中央区旭ケ丘5丁目6番51号 サンハイツ201", "東京都千代田区丸の内1-1-1"]
    stdin = "".join(f"{t}\n" for t in texts) * 2500
    code, lines, _ = run("address", "-", stdin=stdin)
    assert code == 0 and len(lines) == 5000
    assert [line["input"] for line in lines] == texts * 2500
    assert lines[0] == lines[2] and lines[1] == lines[3] and lines[0] != lines[1]


def test_date_text_and_stdin() -> None:
    code, lines, _ = run("date", "昭和55年4月1日")
    assert (code, lines) == (0, [{"input": "昭和55年4月1日", "date": "1980-04-01"}])
    code, lines, _ = run("date", "-", stdin="R08.10.03\n2月30日\n2026/4/1\n")
    assert code == 1
    assert [line["input"] for line in lines] == ["R08.10.03", "2月30日", "2026/4/1"]
    assert lines[0]["date"] == "2026-10-03"
    assert set(lines[1]) == {"input", "error"}
    assert lines[2]["date"] == "2026-04-01"


def test_date_text_that_cannot_be_read_exits_1() -> None:
    code, lines, _ = run("date", "平成1年1月7日")
    assert code == 1
    assert set(lines[0]) == {"input", "error"}
