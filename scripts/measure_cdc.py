"""Measure change data capture on the running local stack (`renkei stack up --cdc`).

    .venv/bin/python scripts/measure_cdc.py [--rows 5000] [--per-transaction 100]

Creates a database of its own with the legacy table, applies the catalogue under a prefix of its
own, registers a connector, runs the adapter (`renkei cdc run`) as a subprocess, then INSERTs
ROWS 転入 rows in transactions of PER_TRANSACTION rows and reports how long it took until all
their events were on `registry.resident.events` (end offsets), from the first COMMIT. Removes
the connector, its slot, the database and its topics afterwards. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from renkei.bench.stages import prepare_prefixed
from renkei.input_formats.cdc_connector import ConnectClient, running_state, slot_name
from renkei.schemas.catalogue import Catalogue, load_catalogue
from renkei.settings import load_settings
from renkei.stack.layout import StackLayout
from renkei.stack.postgres_server import prepare_department_database, psql

REPO = Path(__file__).resolve().parents[1]


async def _count(bootstrap: str, topic: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


def _prefixed_catalogue(catalogue: Catalogue, root: Path, bare: str) -> Path:
    """A copy of the catalogue whose topics are ``<bare>.<topic>`` (as the tests' isolated
    schema folders), so the adapter publishes under the measurement's prefix."""
    for spec in catalogue:
        target = root / f"{bare}.{spec.topic}"
        shutil.copytree(spec.folder, target)
        meta = yaml.safe_load((target / "topic.yaml").read_text(encoding="utf-8"))
        meta["topic"] = target.name
        (target / "topic.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), "utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--per-transaction", type=int, default=100)
    args = parser.parse_args()
    settings = load_settings()
    layout = StackLayout(settings.home)
    bare = f"measure-{uuid.uuid4().hex[:8]}"
    prefix = f"{bare}."
    name = f"m{uuid.uuid4().hex[:8]}"
    database = f"jumin_{name}"
    catalogue = load_catalogue(settings.schemas_dir)
    asyncio.run(prepare_prefixed(settings, catalogue, prefix))
    prepare_department_database(settings, layout, database=database)
    connect = ConnectClient(settings)
    work = Path(tempfile.mkdtemp(prefix="renkei-measure-cdc-"))
    mapping = yaml.safe_load((REPO / "deploy/mappings/jumin-kiroku-cdc.yaml").read_text("utf-8"))
    mapping["topic"] = f"{prefix}registry.resident.events"  # the catalogue copy's name
    (work / "cdc.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    schemas = _prefixed_catalogue(catalogue, work / "avro", bare)
    env = {**os.environ, "RENKEI_TOPIC_PREFIX": prefix, "RENKEI_SCHEMAS_DIR": str(schemas)}
    renkei = [sys.executable, "-c", "from renkei.cli import main; main()", "cdc"]
    mapping_args = ["--mapping", str(work / "cdc.yaml"), "--name", name]
    adapter = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up when stopped
    try:
        subprocess.run([*renkei, "connect", *mapping_args, "--database", database], env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        while not running_state(connect.status(name))[0]:
            time.sleep(1)
        with (work / "adapter.log").open("wb") as log:
            adapter = subprocess.Popen([*renkei, "run", *mapping_args], env=env, stdout=log,
                                       stderr=subprocess.STDOUT)  # fmt: skip
        time.sleep(5)
        statements = []
        for start in range(0, args.rows, args.per_transaction):
            values = ", ".join(
                f"('{900000000000000 + n:015d}', '転入', '2026-10-01', 1, '高橋', '健一', 'ﾀｶﾊｼ', "
                "'ｹﾝｲﾁ', 'S55.04.01', '1', '1', '064-0941', "
                "'北海道札幌市中央区旭ケ丘５丁目６番５１号', '0001023454', '世帯主')"
                for n in range(start, min(start + args.per_transaction, args.rows))
            )
            statements.append(
                "BEGIN; INSERT INTO jumin_kiroku (atena_no, ido_jiyu, ido_ymd, ido_renban, shi, "
                "mei, shi_kana, mei_kana, seinengappi, seibetsu, jumin_shubetsu, yubin_no, "
                f"jusho, setai_no, zokugara) VALUES {values}; COMMIT;"
            )
        started = time.monotonic()
        psql(layout, settings, "\n".join(statements), database=database)
        committed = time.monotonic() - started
        topic = f"{prefix}registry.resident.events"
        partitions = catalogue.get("registry.resident.events").partitions
        while asyncio.run(_count(settings.kafka_bootstrap, topic, partitions)) < args.rows:
            if time.monotonic() - started > 600:
                raise SystemExit("not all events arrived within 600 s")
            time.sleep(0.5)
        total = time.monotonic() - started
        print(
            f"{args.rows} rows in {args.rows // args.per_transaction} transactions: committed in "
            f"{committed:.1f} s; all events on {topic} after {total:.1f} s "
            f"({args.rows / total:.0f} events/s end to end)"
        )
    finally:
        if adapter is not None:
            adapter.terminate()
            adapter.wait(timeout=60)
        connect.delete(name)
        while connect.status(name) is not None:
            time.sleep(1)
        slot = slot_name(settings.model_copy(update={"topic_prefix": prefix}), name)
        psql(layout, settings, f"SELECT pg_drop_replication_slot('{slot}');")
        psql(layout, settings, f"DROP DATABASE IF EXISTS {database};")
        asyncio.run(_delete_topics(settings.kafka_bootstrap, prefix))


if __name__ == "__main__":
    main()
