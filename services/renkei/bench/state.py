"""Worker memory with a city's residents in RocksDB: ``renkei bench state``.

Loading 4 M residents through the pipeline takes hours on a development machine, but what the
resident worker holds after such a load is exactly its tables: the ``residents`` and
``households`` changelogs, restored into RocksDB when the worker starts on an empty data
directory. So the benchmark

1. runs a small real load (``--sample`` residents) through standardize → resident, so the
   changelogs hold records the stage itself wrote;
2. writes synthetic changelog records for ``N`` residents (and N ÷ the sample's residents per
   household households): each is a real record of the sample with the resident's (or
   household's) identifier replaced by a new one of the same shape, so sizes and field
   contents are the stage's own, and keys are spread over the partitions like real ones;
3. wipes the resident worker's RocksDB, starts it, and measures how long it takes to serve a
   held-back registration (table restore included), its RSS once serving and at its peak,
   and the size of its RocksDB directory;
4. repeats for each size of ``--sizes`` (growing the same changelogs), so the slope in MiB per
   million residents can be read off and projected to Yokohama-size tables.

What it does not model: the household loop's and the region/evacuation stages' state (keyed
by region: small), RocksDB compaction of a changelog that took years of updates (the restored
table holds one value per key either way).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from renkei.bench.baselines import partitions_of
from renkei.bench.initial import REGISTRY, restart_until_served
from renkei.bench.stages import delete_prefixed, fill_load, prepare_prefixed, quiet_span
from renkei.bench.workers import WorkerPool
from renkei.bench.workload import initial_load
from renkei.kafka_security import kafka_client_options
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings

TABLES = ("residents", "households")
GIB = 1024.0
TARGET_RESIDENTS = 4_000_000
TARGET_RSS_MIB = 2 * GIB


@dataclass(frozen=True)
class StateOptions:
    sizes: tuple[int, ...]
    sample: int
    municipality: str
    web_port_base: int
    keep_topics: bool = False


@dataclass(frozen=True)
class Sample:
    """The changelog records the resident stage wrote for the sample load, per table."""

    records: dict[str, list[tuple[bytes, bytes]]]

    def per_resident(self, table: str) -> float:
        return len(self.records[table]) / max(len(self.records["residents"]), 1)


def changelog_topic(prefix: str, table: str) -> str:
    """faust's changelog of ``table`` of the resident stage (``<app id>-<table>-changelog``)."""
    return f"{prefix}renkei-resident-{table}-changelog"


async def run_state(
    settings: Settings, catalogue: Catalogue, opts: StateOptions, echo: Any
) -> dict[str, Any]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    echo(f"preparing a sample load of {opts.sample:,} residents of {opts.municipality}…")
    workload = await initial_load(
        settings, catalogue, opts.sample + len(opts.sizes), opts.municipality
    )
    probes = [workload.load[REGISTRY].pop() for _ in opts.sizes]
    await prepare_prefixed(settings, catalogue, prefix)
    await fill_load(settings, workload.load, prefix)
    pool = WorkerPool(prefix, settings.home / "logs", opts.web_port_base)
    measured: list[dict[str, Any]] = []
    try:
        pool.start_all(("standardize", "resident"))
        echo("draining the sample through standardize → resident…")
        resident = prefix + "unified.resident"
        await quiet_span(settings, [resident], 10.0, 1800.0, pool, at_least=(resident, opts.sample))
        sample = await read_sample(settings, prefix)
        echo(
            "sample changelogs: "
            + ", ".join(f"{t} {len(sample.records[t]):,} records" for t in TABLES)
        )
        written = len(sample.records["residents"])
        for size, probe in zip(sorted(opts.sizes), probes, strict=True):
            echo(f"writing changelog records up to {size:,} residents…")
            started = time.monotonic()
            await write_synthetic(settings, prefix, sample, written, size)
            echo(f"  {size - written:,} residents written in {time.monotonic() - started:.0f} s")
            written = max(written, size)
            echo(f"restarting the resident stage on an empty RocksDB with {size:,} residents…")
            served = await restart_until_served(settings, pool, probe, wipe=True, timeout_s=3600.0)
            now, peak = pool.rss_mb("resident")
            measured.append(
                {
                    "residents": size,
                    "served_after_restore_s": round(served, 1),
                    "rss_mb": round(now),
                    "peak_rss_mb": round(peak),
                    "rocksdb_mb": round(dir_size(pool.datadir("resident")) / 2**20),
                }
            )
            echo(f"  {measured[-1]}")
    finally:
        pool.stop_all()
        pool.remove_home()
        if not opts.keep_topics:
            await delete_prefixed(settings, prefix)
    return figures(opts, sample, measured)


def figures(opts: StateOptions, sample: Sample, measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs and, from the first and last, the slope and its projection to 4 M residents."""
    results: dict[str, Any] = {
        "municipality": opts.municipality,
        "sample_residents": opts.sample,
        "households_per_resident": round(sample.per_resident("households"), 3),
        "runs": measured,
    }
    if len(measured) >= 2:
        first, last = measured[0], measured[-1]
        slope = (last["peak_rss_mb"] - first["peak_rss_mb"]) / (
            (last["residents"] - first["residents"]) / 1e6
        )
        projected = last["peak_rss_mb"] + slope * (TARGET_RESIDENTS - last["residents"]) / 1e6
        results |= {
            "peak_rss_mb_per_million_residents": round(slope),
            "projected_peak_rss_mb_4m": round(projected),
            "target_rss_mb": TARGET_RSS_MIB,
            "target_reached": projected <= TARGET_RSS_MIB,
        }
    return results


async def read_sample(settings: Settings, prefix: str) -> Sample:
    """Every record of the resident stage's changelogs (latest value per key)."""
    records: dict[str, list[tuple[bytes, bytes]]] = {}
    for table in TABLES:
        latest: dict[bytes, bytes] = {}
        topic = changelog_topic(prefix, table)
        consumer = AIOKafkaConsumer(**kafka_client_options(settings), group_id=None)
        await consumer.start()
        try:
            partitions = await partitions_of(settings, [topic])
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for batch in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in batch:
                        if record.key is not None and record.value is not None:
                            latest[record.key] = record.value
        finally:
            await consumer.stop()
        if not latest:
            raise RuntimeError(f"{topic} is empty: the sample load wrote no {table}")
        records[table] = list(latest.items())
    return Sample(records)


def synthetic(template: tuple[bytes, bytes], number: int) -> tuple[bytes, bytes]:
    """The template record with its key's identifier replaced by one of the same shape: the
    trailing digits (or hex digits, for a hashed key) become ``number``, zero-padded, wherever
    the identifier occurs in the value too. Sizes stay the same while ``number`` fits."""
    key, value = template
    text = key.decode().strip('"')
    head = text.rstrip("0123456789")
    code = "d"
    if len(text) - len(head) < 8:  # not a numeric identifier: a hex digest at the end?
        head, code = text.rstrip("0123456789abcdef"), "x"
    width = len(text) - len(head)
    digits = format(number, f"0{width}{code}")
    if len(digits) > width:
        raise ValueError(f"{number} does not fit the {width} digits of identifier {text!r}")
    fresh = (head + digits).encode()
    return key.replace(text.encode(), fresh), value.replace(text.encode(), fresh)


async def write_synthetic(
    settings: Settings, prefix: str, sample: Sample, start: int, end: int
) -> None:
    """Changelog records for residents ``start``..``end`` (and their share of households)."""
    producer = AIOKafkaProducer(
        **kafka_client_options(settings), linger_ms=20, max_batch_size=512 * 1024, acks=1
    )
    await producer.start()
    choose = random.Random(start).choice
    try:
        for table in TABLES:
            topic = changelog_topic(prefix, table)
            ratio = sample.per_resident(table)
            pending: list[asyncio.Future[Any]] = []
            real = {key for key, _ in sample.records[table]}
            for number in range(int(start * ratio), int(end * ratio)):
                key, value = synthetic(choose(sample.records[table]), number)
                if key in real:  # never overwrite the sample's own residents
                    continue
                pending.append(await producer.send(topic, value, key=key))
                if len(pending) >= 20_000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def describe(results: dict[str, Any]) -> list[str]:
    lines = [
        f"resident worker with N residents restored into RocksDB ({results['municipality']}, "
        f"{results['households_per_resident']} households per resident):"
    ]
    for run in results["runs"]:
        lines.append(
            f"  {run['residents']:>10,} residents: RSS {run['rss_mb']:,} MiB (peak "
            f"{run['peak_rss_mb']:,}), RocksDB {run['rocksdb_mb']:,} MiB, serving "
            f"{run['served_after_restore_s']} s after start"
        )
    if "projected_peak_rss_mb_4m" in results:
        verdict = "within" if results["target_reached"] else "NOT within"
        lines.append(
            f"  slope {results['peak_rss_mb_per_million_residents']:,} MiB per million residents"
            f" → {results['projected_peak_rss_mb_4m']:,} MiB at 4 M ({verdict} the "
            f"{results['target_rss_mb']:,.0f} MiB target; linear projection)"
        )
    return lines
