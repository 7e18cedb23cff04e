"""`renkei publish` against the real broker and registry, read back by an independent client."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.cli import cli
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.integration.independent_client import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]
TOPIC = "registry.resident.events"


def _invoke(args: list[str], schemas_dir: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, env={"RENKEI_SCHEMAS_DIR": str(schemas_dir)})


def _lines(catalogue: Catalogue) -> tuple[bytes, int]:
    """A file mixing valid events with one of each kind of bad line; returns (bytes, valid)."""
    examples = list(catalogue.get(TOPIC).examples.values())
    good = [json.dumps(e, ensure_ascii=False).encode() for e in examples]
    moved_in = next(e for e in examples if e["event_type"] == "moved_in")
    wrong_type = {**moved_in, "sequence": "seven"}
    missing = {k: v for k, v in moved_in.items() if k != "event_id"}
    bad_code = {**moved_in, "municipality_code": "011012"}
    my_number = copy.deepcopy(moved_in)
    my_number["detail"]["address"]["building"] = "1234 5678 9018"
    bad = [
        json.dumps(v, ensure_ascii=False).encode()
        for v in (wrong_type, missing, bad_code, my_number)
    ]
    not_utf8 = '{"family_name": "山田"}'.encode("cp932")
    return b"\n".join([*good[:2], *bad, not_utf8, *good[2:]]) + b"\n", len(good)


def test_publish_reports_each_bad_line_and_publishes_the_valid_ones(
    live_stack: Settings,
    catalogue: Catalogue,
    isolated_schemas_dir: tuple[Path, str],
    tmp_path: Path,
) -> None:
    schemas_dir, prefix = isolated_schemas_dir
    topic = f"{prefix}.{TOPIC}"
    applied = _invoke(["schemas", "apply", "--topic", topic], schemas_dir)
    assert applied.exit_code == 0, applied.output
    data, valid = _lines(catalogue)
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)

    dry = _invoke(["publish", topic, str(path), "--dry-run"], schemas_dir)
    assert dry.exit_code == 1
    assert f"{valid} valid, 5 invalid (dry run" in dry.output

    result = _invoke(["publish", topic, str(path)], schemas_dir)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "line 3: sequence: Input should be a valid integer" in out
    assert "line 4: event_id: Field required" in out
    assert "line 5: municipality_code: check digit does not match" in out
    assert (
        "line 6: detail.address.building: a 個人番号 (My Number) or 住民票コード must never be sent"
        in out
    )
    assert "line 7: (line): not valid UTF-8" in out
    assert "1234 5678 9018" not in out
    assert f"{valid + 5} lines, {valid} published, 5 invalid" in out

    records = read_all(live_stack, topic, expected=valid)
    assert len(records) == valid
    by_id = {str(r["value"]["event_id"]): r for r in records}
    for example in catalogue.get(TOPIC).examples.values():
        record = by_id[example["event_id"]]
        assert record["key"] == example["resident_key"]
        assert record["value"]["event_type"] == example["event_type"]
        assert record["headers"]["ce_id"] == example["event_id"]
        assert record["headers"]["ce_specversion"] == "1.0"
        assert record["headers"]["content-type"] == "application/avro"
