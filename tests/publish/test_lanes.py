"""The ways into the bulk lane (docs/design/streaming-core.md, "Lanes"): ``renkei publish
--bulk``, the first load of a snapshot diff, the SDK's ``Publisher(bulk=True)`` (no broker:
the topic choice and the CLI's refusals; tests/integration/test_lanes_live.py sends them)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from renkei.cli import cli, publish_cmd
from renkei.errors import ConfigurationError
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO / "deploy" / "mappings" / "jumin-kiroku-snapshot.yaml"
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
HEADER = (
    "統合宛名番号,氏,名,氏カナ,名カナ,生年月日,性別,住民種別,郵便番号,住所,方書,世帯番号,続柄,"
    "支援措置"
)
ROW = (
    "000000000000101,山田,太郎,ﾔﾏﾀﾞ,ﾀﾛｳ,S50.1.1,男,日本人,0640941,"
    "北海道札幌市中央区旭ケ丘1丁目1番1号,,0000000011,世帯主,無"
)


async def test_the_sdk_publishes_to_the_bulk_twin_of_a_topic_with_a_bulk_lane() -> None:
    live = Publisher(Settings(), CATALOGUE)
    bulk = Publisher(Settings(), CATALOGUE, bulk=True)
    try:
        assert live.lane_topic("registry.resident.events") == "registry.resident.events"
        assert bulk.lane_topic("registry.resident.events") == "registry.resident.events.bulk"
        assert bulk.lane_topic("health.checkup.results") == "health.checkup.results.bulk"
        assert live.lane_topic("registry.resident.events", bulk=True).endswith(".bulk")
        assert bulk.lane_topic("registry.resident.events.bulk") == "registry.resident.events.bulk"
        with pytest.raises(ConfigurationError, match=r"disaster\.area\.alerts has no bulk lane"):
            bulk.lane_topic("disaster.area.alerts")
    finally:
        await asyncio.gather(live.registry.aclose(), bulk.registry.aclose())


def _write(path: Path, *rows: str) -> Path:
    path.write_bytes("\n".join([HEADER, *rows]).encode("cp932") + b"\n")
    return path


def test_a_diff_against_an_empty_export_is_an_initial_load(tmp_path: Path) -> None:
    assert publish_cmd.initial_load(_write(tmp_path / "empty.csv"), SNAPSHOT)
    assert not publish_cmd.initial_load(_write(tmp_path / "old.csv", ROW), SNAPSHOT)


def _invoke(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, list[bool]]:
    """Run ``renkei publish`` with the broker path replaced: which lane did it choose?"""
    lanes: list[bool] = []

    async def publish(*_: Any, bulk: bool = False, **__: Any) -> publish_cmd.PublishReport:
        lanes.append(bulk)
        return publish_cmd.PublishReport(read=1, valid=1, published=1)

    monkeypatch.setattr(publish_cmd, "_publish", publish)
    return CliRunner().invoke(cli, ["publish", *args]), lanes


def test_publish_chooses_the_lane(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty, old = _write(tmp_path / "empty.csv"), _write(tmp_path / "old.csv", ROW)
    new = _write(tmp_path / "new.csv", ROW)
    snapshot = ["--format", "csv", "--mapping", str(SNAPSHOT)]
    topic = "registry.resident.events"

    result, lanes = _invoke(monkeypatch, *snapshot, "--diff-against", str(empty), topic, str(new))
    assert result.exit_code == 0, result.output
    assert lanes == [True] and "to the bulk lane registry.resident.events.bulk" in result.output

    result, lanes = _invoke(monkeypatch, *snapshot, "--diff-against", str(old), topic, str(new))
    assert result.exit_code == 0, result.output
    assert lanes == [False] and "bulk" not in result.output

    result, lanes = _invoke(
        monkeypatch, *snapshot, "--live", "--diff-against", str(empty), topic, str(new)
    )
    assert lanes == [False]

    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("{}\n", encoding="utf-8")
    result, lanes = _invoke(monkeypatch, "--bulk", "health.checkup.results", str(jsonl))
    assert result.exit_code == 0, result.output
    assert lanes == [True]


def test_publish_refuses_a_bulk_lane_a_topic_does_not_have(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("{}\n", encoding="utf-8")
    result, lanes = _invoke(monkeypatch, "--bulk", "disaster.area.alerts", str(jsonl))
    assert result.exit_code == 2 and lanes == []
    assert "disaster.area.alerts has no bulk lane" in result.output
    assert "registry.resident.events" in result.output  # it says which topics have one

    result, lanes = _invoke(monkeypatch, "registry.resident.events.bulk", str(jsonl))
    assert result.exit_code == 2 and lanes == []
    assert "name the live topic (registry.resident.events) and add --bulk" in result.output
