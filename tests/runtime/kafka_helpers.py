"""Helpers for tests that run a stage worker as a subprocess against the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from renkei.schemas.catalogue import renamed
from renkei.serde.avro import AvroEncoder, schema_text
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.topics import ensure_topics
from tests.runtime.echo_stage import SINK, SOURCE

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free ports, below Linux's ephemeral range (32768+)
    so client connections opened meanwhile cannot take one."""
    for _ in range(200):
        base = random.randrange(20000, 32000 - count)
        try:
            with contextlib.ExitStack() as stack:
                for port in range(base, base + count):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports")


class WorkerProcess:
    """``python -m renkei.cli.worker_cmd TARGET`` (= ``renkei worker TARGET``) in the background,
    its output in a file, its RENKEI_HOME (faust data dirs) next to that file."""

    def __init__(self, target: str, log: Path, env: dict[str, str], web_port: int | None = None):
        self.log = log
        args = [target] if target == "all" else [target, "--web-port", str(web_port or free_port())]
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "renkei.cli.worker_cmd", *args],
            cwd=REPO,
            env={**os.environ, "RENKEI_HOME": str(log.parent / "home"), **env},
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited ({self.process.returncode}):\n{self.output()}")
            time.sleep(0.2)
        raise AssertionError(
            f"{text!r} not in the worker's output after {timeout}s:\n{self.output()}"
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._out.close()

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(signal.SIGKILL)
            raise AssertionError(
                f"worker still running after {timeout}s:\n{self.output()}"
            ) from None


async def produce(
    settings: Settings,
    topic: str,
    records: list[tuple[bytes | None, bytes | None, list[Any], int | None]],
) -> list[tuple[int, int]]:
    """Send (key, value, headers, partition) records in order; returns (partition, offset) each."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        positions = []
        for key, value, headers, partition in records:
            metadata = await producer.send_and_wait(
                topic, value, key=key, headers=headers, partition=partition
            )
            positions.append((metadata.partition, metadata.offset))
        return positions
    finally:
        await producer.stop()


async def read_until(
    settings: Settings,
    topic: str,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    timeout: float = 60.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` from the start, read until ``done(records)`` or the timeout.
    A topic a worker is still to create (its DLQ, its outputs) is waited for within the timeout."""
    deadline = time.monotonic() + timeout
    await wait_for_topic(settings, topic, timeout)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        while not done(records) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def committed(settings: Settings, group: str) -> dict[tuple[str, int], int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


async def topic_partitions(settings: Settings, topic: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            return None
        [entry] = await admin.describe_topics([topic])
        return len(entry["partitions"])
    finally:
        await admin.close()


async def wait_for_topic(settings: Settings, topic: str, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = await topic_partitions(settings, topic)
        if count is not None:
            return count
        await asyncio.sleep(0.5)
    raise AssertionError(f"topic {topic} was not created within {timeout}s")


async def create_echo_topics(settings: Settings, prefix: str) -> AvroEncoder:
    """Create the echo source topic and register both echo subjects (what `schemas apply` does
    for catalogue topics); returns a ready encoder for the source."""
    await ensure_topics(settings, [renamed(SOURCE, prefix + SOURCE.topic)])
    client = RegistryClient(settings.schema_registry_url)
    for spec in (SOURCE, SINK):
        await client.register(f"{prefix}{spec.topic}-value", schema_text(spec.schema))
    encoder = AvroEncoder(client, f"{prefix}echo.source-value", SOURCE.schema)
    await encoder.prepare()
    return encoder
