"""Change data capture end to end on real servers: PostgreSQL (Debian's packages), Kafka Connect
from the broker's Kafka release with Debezium's PostgreSQL connector, the adapter
(``renkei cdc run``), the standardize and resident stages, and an independent Confluent client
reading ``unified.resident``; then the department's reject report.

The legacy table (deploy/cdc/jumin-kiroku.sql) gets: a row present before the connector starts
(a snapshot row: not a move-in), a household of two moving in in ONE transaction, a 転居
UPDATE, an UPDATE of an unmapped column, an UPDATE of mapped data without a new 異動, and an
INSERT then DELETE.
"""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from renkei.cli import cli
from renkei.input_formats.cdc_connector import ConnectClient, running_state, slot_name
from renkei.settings import Settings
from renkei.stack import ensure_stack_up
from renkei.stack.layout import StackLayout
from renkei.stack.postgres_server import prepare_department_database, psql
from tests.integration.independent_client import end_offsets, read_all
from tests.runtime.kafka_helpers import WorkerProcess, produce, read_until, wait_for_topic

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parents[2]
CDC_MAPPING = REPO / "deploy" / "mappings" / "jumin-kiroku-cdc.yaml"
REG = "registry.resident.events"
SNAPSHOT, HEAD, WIFE, DELETED = (
    "000000055500001",
    "000000055500002",
    "000000055500003",
    "000000055500004",
)
COLUMNS = (
    "atena_no, ido_jiyu, ido_ymd, ido_renban, shi, mei, shi_kana, mei_kana, seinengappi, "
    "seibetsu, jumin_shubetsu, yubin_no, jusho, setai_no, zokugara, zen_jusho_cd, zen_jusho"
)


def _values(key: str, reason: str, date: str, given: str, relationship: str) -> str:
    return (
        f"('{key}', '{reason}', '{date}', 1, '高橋', '{given}', 'ﾀｶﾊｼ', 'ｹﾝｲﾁ', 'S55.04.01', "
        "'1', '1', '064-0941', '北海道札幌市中央区旭ケ丘５丁目６番５１号', '0001023454', "
        f"'{relationship}', '131016', '東京都千代田区麹町3丁目2番1号')"
    )


def _renkei(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _ok(env: dict[str, str], *args: str) -> str:
    result = _renkei(env, *args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def _until(what: str, check: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{what} within {timeout}s")


@pytest.fixture(scope="module")
def cdc_servers(live_stack: Settings) -> Settings:
    """PostgreSQL and Kafka Connect of the stack (started here when `stack up --cdc` did not)."""
    ensure_stack_up(live_stack, cdc=True, registry_timeout=240)
    return live_stack


@pytest.mark.timeout(600)
def test_row_changes_reach_unified_resident_and_rejects_reach_the_department(
    cdc_servers: Settings, isolated_schemas_dir: tuple[Path, str], tmp_path: Path
) -> None:
    settings = cdc_servers
    layout = StackLayout(settings.home)
    schemas_dir, bare = isolated_schemas_dir
    prefix = f"{bare}."
    name = f"t{uuid.uuid4().hex[:8]}"
    database = f"jumin_{name}"
    env = {"RENKEI_SCHEMAS_DIR": str(schemas_dir), "RENKEI_HOME": str(settings.home)}
    _ok(env, "schemas", "apply")
    cli_env = {**env, "RENKEI_TOPIC_PREFIX": prefix}
    mapping = yaml.safe_load(CDC_MAPPING.read_text(encoding="utf-8")) | {"topic": prefix + REG}
    mapping_file = tmp_path / "cdc.yaml"
    mapping_file.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")

    prepare_department_database(settings, layout, database=database)
    sql = lambda text: psql(layout, settings, text, database=database)  # noqa: E731
    sql(f"INSERT INTO jumin_kiroku ({COLUMNS}) VALUES "
        f"{_values(SNAPSHOT, '転居', '2019-06-01', '一郎', '世帯主')};")  # fmt: skip

    workers = {
        stage: WorkerProcess(stage, tmp_path / f"{stage}.log", {"RENKEI_TOPIC_PREFIX": prefix})
        for stage in ("standardize", "resident")
    }
    adapter_log = (tmp_path / "adapter.log").open("wb")
    adapter = None
    connect = ConnectClient(settings)
    try:
        _ok(cli_env, "cdc", "connect", "--mapping", str(mapping_file), "--name", name,
            "--database", database)  # fmt: skip
        _until(
            "the connector runs",
            lambda: running_state(connect.status(name))[0],
        )
        adapter = subprocess.Popen(
            [sys.executable, "-c", "from renkei.cli import main; main()", "cdc", "run",
             "--mapping", str(mapping_file), "--name", name],
            cwd=REPO, env={**_environ(), **cli_env}, stdin=subprocess.DEVNULL,
            stdout=adapter_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        changes = f"{prefix}cdc.{name}.public.jumin_kiroku"
        asyncio.run(wait_for_topic(settings, changes, timeout=120))  # the snapshot row is there

        # one transaction: a household of two moves in
        sql(f"BEGIN; INSERT INTO jumin_kiroku ({COLUMNS}) VALUES "
            f"{_values(HEAD, '転入', '2026-10-01', '健一', '世帯主')}, "
            f"{_values(WIFE, '転入', '2026-10-01', '花子', '妻')}; COMMIT;")  # fmt: skip
        sql(f"UPDATE jumin_kiroku SET ido_jiyu = '転居', ido_ymd = '2026-11-05', ido_renban = 2, "
            f"jusho = '北海道札幌市中央区旭ケ丘１丁目１番' WHERE atena_no = '{HEAD}';")  # fmt: skip
        sql(f"UPDATE jumin_kiroku SET koushin_tanmatsu = 'T99' WHERE atena_no = '{WIFE}';")
        sql(f"UPDATE jumin_kiroku SET shi = '髙橋' WHERE atena_no = '{WIFE}';")
        sql(f"INSERT INTO jumin_kiroku ({COLUMNS}) VALUES "
            f"{_values(DELETED, '転入', '2026-10-02', '次郎', '世帯主')};")  # fmt: skip
        sql(f"DELETE FROM jumin_kiroku WHERE atena_no = '{DELETED}';")
        asyncio.run(produce(settings, changes, [(b"x", b"not a change event", [], 0)]))

        # the department events, read by an independent client
        events = read_all(settings, prefix + REG, expected=4, timeout=120)
        assert adapter.poll() is None, _log(tmp_path)
        by_key: dict[str, list[dict[str, Any]]] = {}
        for record in events:
            by_key.setdefault(record["key"], []).append(record)
        assert SNAPSHOT not in by_key  # a snapshot row is not a move-in
        kinds = {k: sorted(r["value"]["event_type"] for r in v) for k, v in by_key.items()}
        assert kinds == {
            HEAD: ["moved_in", "moved_within"],
            WIFE: ["moved_in"],
            DELETED: ["moved_in"],  # its DELETE published nothing
        }, _log(tmp_path)
        head_in = next(r for r in by_key[HEAD] if r["value"]["event_type"] == "moved_in")
        wife_in = by_key[WIFE][0]
        # one database transaction: its events carry its id and its commit time
        assert (
            head_in["headers"]["renkei.source.transaction"]
            == (wife_in["headers"]["renkei.source.transaction"])
        )
        assert head_in["value"]["recorded_at"] == wife_in["value"]["recorded_at"]
        assert head_in["headers"]["renkei.source.position"].startswith("public.jumin_kiroku lsn ")

        # the stages link them: unified.resident, read by an independent client
        unified = prefix + "unified.resident"
        asyncio.run(wait_for_topic(settings, unified, timeout=120))
        latest = _until("HEAD's 転居 in unified.resident", lambda: _moved(settings, unified))
        assert set(latest) == {HEAD, WIFE, DELETED}  # the deleted row's resident stays
        assert latest[WIFE]["household"]["relationship"] == "妻"

        # what was refused reaches the department, by position and key, without values
        asyncio.run(
            read_until(settings, f"{prefix}dlq.{REG}", lambda records: len(records) >= 3, 60)
        )
        # nothing else was published (the snapshot row, the unmapped UPDATE, the DELETE)
        assert end_offsets(settings, prefix + REG, 6) == 4
        report = tmp_path / "rejects.csv"
        _ok(cli_env, "dlq", "report", "--department", "市民課", "--encoding", "cp932",
            "-o", str(report))  # fmt: skip
        rows = list(csv.reader(io.StringIO(report.read_bytes().decode("cp932"))))[1:]
        refused = {(row[2], row[4]) for row in rows}
        assert any(key == DELETED and "DELETE is not a 異動" in why for key, why in refused), rows
        assert any(key == WIFE and "no new 異動" in why for key, why in refused), rows
        garbage = [row for row in rows if row[1].startswith(changes)]
        assert [(row[3], row[4]) for row in garbage] == [("(record)", "not a JSON change event")]
        others = [row for row in rows if row not in garbage]
        assert all(row[1].startswith("public.jumin_kiroku lsn ") for row in others), rows
        assert "髙橋" not in report.read_bytes().decode("cp932")
    finally:
        if adapter is not None:
            adapter.terminate()
            adapter.wait(timeout=60)
        adapter_log.close()
        for worker in workers.values():
            worker.stop()
        connect.delete(name)
        _until("the connector is gone", lambda: connect.status(name) is None, 60)
        psql(layout, settings, f"SELECT pg_drop_replication_slot(slot_name) FROM "
             f"pg_replication_slots WHERE slot_name = '{slot_name(settings.model_copy(update={'topic_prefix': prefix}), name)}';")  # fmt: skip
        psql(layout, settings, f"DROP DATABASE IF EXISTS {database};")


def _moved(settings: Settings, topic: str) -> dict[str, dict[str, Any]] | None:
    """The latest unified.resident record per key, once HEAD's 転居 is in it."""
    total = end_offsets(settings, topic, 6)
    latest: dict[str, dict[str, Any]] = {}
    for record in read_all(settings, topic, total, timeout=30):
        latest[record["key"]] = record["value"]
    head = latest.get(HEAD) or {}
    text = unicodedata.normalize("NFKC", (head.get("address") or {}).get("address_text") or "")
    return latest if "旭ケ丘1丁目" in text else None


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def _log(tmp_path: Path) -> str:
    return (tmp_path / "adapter.log").read_text(encoding="utf-8", errors="replace")[-3000:]
