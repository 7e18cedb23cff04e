"""The operator story of docs/dlq.md on the real broker and registry, stages as subprocesses.

A legacy CSV export writes 続柄 as 孫 where the standard writes 子の子; the mapping file passes
it on as recorded, so ``renkei publish --format csv`` accepts the row and the standardize stage
sends the event to ``dlq.registry.resident.events``. The operator looks (``renkei dlq list``,
``show``, ``replay --dry-run``), adds 孫 → 子の子 to the legacy system's code map, restarts
the standardize stage and replays: the resident reaches ``unified.resident`` exactly as often
as an identical resident whose export was right from the start, under the one event id. A
second replay sends nothing; a forced one (``--from-offset 0``) re-sends, and the stages'
idempotency leaves every output as it was.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from click.testing import CliRunner, Result

from renkei.bench.stages import delete_prefixed
from renkei.cli import cli
from renkei.kafka_security import kafka_client_options
from renkei.settings import Settings
from tests.integration.independent_client import end_offsets, read_all
from tests.runtime.kafka_helpers import WorkerProcess, committed, read_until, wait_for_topic

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parents[2]
IDOU = REPO / "deploy" / "mappings" / "jumin-kiroku-idou.yaml"
REG = "registry.resident.events"
STD = "std.registry.resident.events"
GRANDCHILD, CONTROL = "000000077700001", "000000077700002"
HEADER = (
    "統合宛名番号,異動日,処理日時,異動事由,氏,名,氏カナ,名カナ,生年月日,性別,住民種別,郵便番号,"
    "住所,方書,世帯番号,続柄,前住所市町村コード,前住所,転出先市町村コード,転出先住所,支援措置"
)


def _row(key: str, household: str, relationship: str) -> str:
    return (
        f"{key},R8.10.1,2026-10-09 10:42:17,転入,高橋,健一,ﾀｶﾊｼ,ｹﾝｲﾁ,平成30年4月1日,男,日本人,"
        f"〒064-0941,北海道札幌市中央区旭ケ丘５丁目６番５１号,,{household},{relationship},"
        "131016,東京都千代田区麹町3丁目2番1号,,,無"
    )


def _renkei(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _ok(env: dict[str, str], *args: str) -> str:
    result = _renkei(env, *args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


async def _ends(settings: Settings, partitions: dict[str, int]) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t, n in partitions.items() for p in range(n)]
        ends = await consumer.end_offsets(tps)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


def _drained(settings: Settings, group: str, partitions: dict[str, int], timeout: float = 60):
    """Wait until ``group`` committed every record of ``partitions`` (it processed them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ends = asyncio.run(_ends(settings, partitions))
        done = asyncio.run(committed(settings, group))
        if all(done.get(tp, 0) >= end for tp, end in ends.items()):
            return
        time.sleep(1)
    raise AssertionError(f"{group} did not process {partitions} within {timeout}s")


def _by_key(settings: Settings, topic: str, partitions: int) -> dict[str, list[dict[str, Any]]]:
    total = end_offsets(settings, topic, partitions)
    found: dict[str, list[dict[str, Any]]] = {}
    for record in read_all(settings, topic, total, timeout=30):
        found.setdefault(record["key"], []).append(record["value"])
    return found


@pytest.mark.timeout(300)
def test_bad_mapping_fix_replay_reaches_unified_resident_once(
    live_stack: Settings, isolated_schemas_dir: tuple[Path, str], tmp_path: Path
) -> None:
    settings = live_stack
    schemas_dir, bare = isolated_schemas_dir
    prefix = f"{bare}."
    maps = tmp_path / "code-maps"
    maps.mkdir()
    env = {
        "RENKEI_SCHEMAS_DIR": str(schemas_dir),
        "RENKEI_HOME": str(tmp_path / "home"),
        "RENKEI_CODE_MAPS_DIR": str(maps),
    }
    _ok(env, "schemas", "apply")
    cli_env = {
        **env,
        "RENKEI_SCHEMAS_DIR": str(REPO / "schemas" / "avro"),
        "RENKEI_TOPIC_PREFIX": prefix,
    }
    worker_env = {"RENKEI_TOPIC_PREFIX": prefix, "RENKEI_CODE_MAPS_DIR": str(maps)}

    def start(stage: str, run: str) -> WorkerProcess:
        return WorkerProcess(stage, tmp_path / f"{run}-{stage}.log", worker_env)

    standardize, resident = start("standardize", "first"), start("resident", "first")
    try:
        # 1. the export: one row as the legacy system writes it, one as the standard does
        mapping = yaml.safe_load(IDOU.read_text(encoding="utf-8")) | {"topic": prefix + REG}
        (tmp_path / "idou.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
        lines = [
            HEADER,
            _row(GRANDCHILD, "0007770001", "孫"),
            _row(CONTROL, "0007770002", "子の子"),
        ]
        (tmp_path / "idou.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
        published = _renkei(
            env, "publish", "--format", "csv", "--mapping", str(tmp_path / "idou.yaml"),
            prefix + REG, str(tmp_path / "idou.csv"),
        )  # fmt: skip
        assert published.exit_code == 0, published.output

        # 2. the standardize stage refuses 孫: DLQ; the control resident goes through
        asyncio.run(wait_for_topic(settings, f"{prefix}dlq.{REG}"))
        dead = asyncio.run(read_until(settings, f"{prefix}dlq.{REG}", lambda r: len(r) >= 1, 90))
        assert [r.key for r in dead] == [GRANDCHILD.encode()]
        _wait_for_key(settings, prefix + "unified.resident", CONTROL)

        # 3. what an operator sees
        listed = _ok(cli_env, "dlq", "list")
        assert "standardize" in listed and "standardization" in listed
        row = next(line for line in listed.splitlines() if f"dlq.{REG}" in line)
        assert row.split()[3:7] == ["1", "1", "0", "0"]  # records, pending, replayed, returned
        assert GRANDCHILD not in listed and "孫" not in listed and "高橋" not in listed
        [shown] = [json.loads(x) for x in _ok(cli_env, "dlq", "show", REG, "--json").splitlines()]
        assert shown["detail"].startswith("detail.household.relationship: kinship word")
        assert shown["origin"]["topic"] == prefix + REG
        assert shown["value"]["detail"]["household"]["relationship"] == "孫"
        event_id = shown["value"]["event_id"]
        source_end = end_offsets(settings, prefix + REG, 6)
        dry = _ok(cli_env, "dlq", "replay", f"dlq.{REG}", "--dry-run")
        assert "would replay 1 records" in dry
        assert end_offsets(settings, prefix + REG, 6) == source_end

        # 4. the fix: the legacy system's code map, and a restart of the standardize stage
        (maps / "jumin-kiroku-legacy.yaml").write_text(
            "source_system: jumin-kiroku-legacy\nrelationship: {孫: 子の子}\n", "utf-8"
        )
        assert standardize.stop() == 0, standardize.output()
        standardize = start("standardize", "second")
        standardize.wait_for("code map for jumin-kiroku-legacy: relationship 1")

        # 5. replay: the record goes back once and reaches unified.resident
        replayed = _ok(cli_env, "dlq", "replay", f"dlq.{REG}")
        assert "replayed 1 records" in replayed
        assert end_offsets(settings, prefix + REG, 6) == source_end + 1
        _wait_for_key(settings, prefix + "unified.resident", GRANDCHILD)
        _drained(settings, f"{prefix}renkei-resident", _resident_inputs(prefix))
        unified = _by_key(settings, prefix + "unified.resident", 6)
        assert unified[GRANDCHILD], "the replayed resident is not in unified.resident"
        assert {str(r["event_id"]) for r in unified[GRANDCHILD]} == {event_id}
        # One application of a 転入 emits the profile once the address group has answered
        # (docs/privacy.md), and again with its household summary if the household step
        # answers after that: 1 or 2 records, all of this one event, so the replayed event was
        # applied exactly once (a second application would add records of a new revision).
        assert 1 <= len(unified[GRANDCHILD]) <= 2
        assert 1 <= len(unified[CONTROL]) <= 2
        sequences = [r["sequence"] for r in unified[GRANDCHILD]]
        assert sequences == sorted(set(sequences))  # revisions, none repeated
        assert unified[GRANDCHILD][-1]["household"]["relationship"] == "子の子"
        unified_end = end_offsets(settings, prefix + "unified.resident", 6)
        audit = (tmp_path / "home" / "audit" / "audit.jsonl").read_text(encoding="utf-8")
        [record] = [json.loads(x) for x in audit.splitlines() if '"dlq.replay"' in x]
        assert record["details"]["records"] == 1 and GRANDCHILD not in audit

        # 6. replaying again sends nothing
        again = _ok(cli_env, "dlq", "replay", f"dlq.{REG}")
        assert "nothing to replay" in again
        assert end_offsets(settings, prefix + REG, 6) == source_end + 1
        listed = _ok(cli_env, "dlq", "list", REG)
        row = next(line for line in listed.splitlines() if f"dlq.{REG}" in line)
        assert row.split()[3:7] == ["1", "0", "1", "0"]

        # 7. a forced re-send is absorbed: standardized again, no new unified.resident record
        forced = _ok(cli_env, "dlq", "replay", f"dlq.{REG}", "--from-offset", "0")
        assert "replayed 1 records" in forced
        std = asyncio.run(
            read_until(
                settings, prefix + STD,
                lambda r: sum(x.key == GRANDCHILD.encode() for x in r) >= 2, 60,
            )
        )  # fmt: skip
        assert sum(x.key == GRANDCHILD.encode() for x in std) == 2
        _drained(settings, f"{prefix}renkei-resident", _resident_inputs(prefix))
        assert end_offsets(settings, prefix + "unified.resident", 6) == unified_end
        assert end_offsets(settings, f"{prefix}dlq.{REG}", 6) == 1  # nothing failed again
    finally:
        codes = [standardize.stop(), resident.stop()]
        # ~40 topics per run: a shared development broker runs out of file handles otherwise
        asyncio.run(delete_prefixed(settings, prefix))
        asyncio.run(delete_prefixed(settings, f"dlq.{prefix}"))  # the publisher's DLQ
    assert codes == [0, 0], standardize.output()[-3000:] + resident.output()[-3000:]


def _resident_inputs(prefix: str) -> dict[str, int]:
    names = (STD, "renkei-resident-household-members", "renkei-resident-household-views")
    return {prefix + name: 6 for name in names}


def _wait_for_key(settings: Settings, topic: str, key: str, timeout: float = 90) -> None:
    records = asyncio.run(
        read_until(settings, topic, lambda r: any(x.key == key.encode() for x in r), timeout)
    )
    assert any(x.key == key.encode() for x in records), f"{key} never reached {topic}"


@pytest.mark.timeout(60)
def test_unknown_topics_are_one_clear_error(live_stack: Settings) -> None:
    env = {"RENKEI_TOPIC_PREFIX": f"test-nodlq-{time.time_ns()}."}
    for args in (["show", "nosuch"], ["replay", "nosuch"], ["list", "nosuch"]):
        result = _renkei(env, "dlq", *args)
        assert result.exit_code == 1, (args, result.output)
        assert "no DLQ topic" in result.output and "dlq.nosuch" in result.output
    result = _renkei(env, "dlq", "list")
    assert result.exit_code == 0 and "no DLQ topics" in result.output
    result = _renkei(env, "dlq", "replay", "x", "--reason", "bogus")
    assert result.exit_code == 2 and "bogus" in result.output
