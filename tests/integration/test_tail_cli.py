"""`renkei tail` decodes through the registry; undecodable records are reported, not fatal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from click.testing import CliRunner

from renkei.cli import cli
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]
TOPIC = "disaster.area.alerts"


def _invoke(args: list[str], schemas_dir: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, env={"RENKEI_SCHEMAS_DIR": str(schemas_dir)})


async def _send_garbage(settings: Settings, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"not avro at all", key=b"x", partition=0)
    finally:
        await producer.stop()


def test_tail_prints_decoded_json_and_reports_bad_records(
    live_stack: Settings,
    catalogue: Catalogue,
    isolated_schemas_dir: tuple[Path, str],
    tmp_path: Path,
) -> None:
    schemas_dir, prefix = isolated_schemas_dir
    topic = f"{prefix}.{TOPIC}"
    assert _invoke(["schemas", "apply", "--topic", topic], schemas_dir).exit_code == 0
    examples = catalogue.get(TOPIC).examples
    path = tmp_path / "alerts.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in examples.values()))
    assert _invoke(["publish", topic, str(path)], schemas_dir).exit_code == 0
    asyncio.run(_send_garbage(live_stack, topic))

    args = ["tail", topic, "--from-beginning", "--idle-timeout", "5", "--headers"]
    result = _invoke(args, schemas_dir)
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(examples)
    by_id = {r["value"]["event_id"]: r for r in records}
    for example in examples.values():
        record = by_id[example["event_id"]]
        assert record["key"] == example["area_code"]
        assert record["value"]["alert_id"] == example["alert_id"]
        assert record["value"]["issued_at"] == example["issued_at"]
        assert record["headers"]["ce_type"] == catalogue.get(TOPIC).cloudevents_type
    assert "unknown magic byte" in result.stderr

    one = _invoke(["tail", topic, "--from-beginning", "-n", "1", "--value-only"], schemas_dir)
    assert one.exit_code == 0
    assert "event_id" in json.loads(one.stdout)
