"""The snapshot job: one audited release of every municipality's table, now or periodically.

``renkei disclosure snapshot`` runs :func:`take_snapshot` once; ``renkei disclosure run`` runs
it every ``--every`` (daily by default). Phases of one snapshot:

1. cut: ``internal.resident.facts`` read to the end offsets taken at one moment (``cut.py``);
2. microdata: one :class:`~renkei.disclosure.microdata.Person` per residing resident, ages
   on the reference date, residents under a 支援措置 without a 町域;
3. previous: the last published snapshot of each municipality (its suppression pattern is
   kept where it can be, ``suppression.py``);
4. release: per municipality, suppression → LP audit → perturbation; a table whose audit fails
   is refused, and nothing of it is published (the last snapshot stays the latest);
5. publish: one ``derived.region-snapshot`` record per municipality (key: its code), then one
   ``disclosure.released`` audit record (counts only).

The job is not a stage: it keeps no table and commits no offsets (every snapshot reads the
compacted facts from the beginning); it is the only producer of ``derived.region-snapshot``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from renkei.audit import AuditLog
from renkei.contracts.jobs import job_spec
from renkei.contracts.names import TopicNames
from renkei.disclosure.cut import read_cut
from renkei.disclosure.microdata import Person, person_from_facts
from renkei.disclosure.release import (
    SNAPSHOT_TOPIC,
    DisclosureRules,
    Release,
    ReleaseRefused,
    release_table,
    suppressed_cells,
)
from renkei.disclosure.table import build_tables
from renkei.errors import ConfigurationError, RenkeiError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.publish.cloudevents import cloudevent_headers
from renkei.schemas.catalogue import Catalogue, load_catalogue, renamed
from renkei.serde.avro import AvroDecoder, AvroEncoder
from renkei.serde.registry import RegistryClient, registry_client
from renkei.settings import Settings
from renkei.topics import ensure_topics

log = logging.getLogger(__name__)
JOB = "disclosure"
JST = dt.timezone(dt.timedelta(hours=9), "JST")
_SECRET_BYTES = 32


def secret_path(settings: Settings) -> Path:
    """The cell-key secret: ``<RENKEI_HOME>/secrets/disclosure/cell-key.key`` (0600)."""
    return settings.home / "secrets" / "disclosure" / "cell-key.key"


def load_or_create_secret(path: Path) -> bytes:
    """The cell-key secret (hex text); a new random one is written (0600, O_EXCL) when missing.

    It must stay the same between snapshots: a new secret re-draws every perturbation."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_secret(path)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(_SECRET_BYTES) + "\n")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigurationError(f"cell-key secret {path} is readable by others; chmod 600 it")
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        raise ConfigurationError(f"cell-key secret {path}: not hex text") from None
    if len(secret) < 16:
        raise ConfigurationError(f"cell-key secret {path}: shorter than 16 bytes")
    return secret


@dataclass(frozen=True)
class SnapshotReport:
    """What one snapshot did (no personal data: counts and municipality codes)."""

    cut_at: dt.datetime
    reference_date: dt.date
    residents: int
    releases: list[Release] = field(default_factory=list)
    refused: list[ReleaseRefused] = field(default_factory=list)
    published: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "cut_at": self.cut_at.isoformat(),
            "reference_date": self.reference_date.isoformat(),
            "residents": self.residents,
            "municipalities": [r.municipality for r in self.releases],
            "refused": [r.municipality for r in self.refused],
            "suppressed_cells": sum(len(r.suppression.suppressed) for r in self.releases),
            "complementary_cells": sum(len(r.suppression.complementary) for r in self.releases),
            "linear_programs": sum(r.suppression.audit.solves for r in self.releases),
            "published": self.published,
        }


def release_all(
    people: list[Person],
    rules: DisclosureRules,
    secret: bytes,
    *,
    cut_at: dt.datetime,
    reference_date: dt.date,
    previous: dict[str, dict[str, Any]],
) -> tuple[list[Release], list[ReleaseRefused]]:
    """Every municipality's release (pure; CPU-bound)."""
    releases, refused = [], []
    for municipality, table in build_tables(people).items():
        try:
            releases.append(
                release_table(
                    table,
                    rules,
                    secret,
                    recorded_at=cut_at,
                    reference_date=reference_date,
                    previous=suppressed_cells(previous.get(municipality) or {}),
                )
            )
        except ReleaseRefused as exc:
            log.error("%s", exc)
            refused.append(exc)
    return releases, refused


async def _previous(
    settings: Settings, names: TopicNames, registry: RegistryClient, catalogue: Catalogue
) -> dict[str, dict[str, Any]]:
    decoder = AvroDecoder(registry, catalogue.get(SNAPSHOT_TOPIC).schema)
    try:
        cut = await read_cut(settings, names.topic(SNAPSHOT_TOPIC), decoder.decode)
    except StackError as exc:
        if "does not exist" in str(exc):
            return {}
        raise
    return {key.decode("utf-8"): value for key, value in cut.values.items()}


async def _publish(
    settings: Settings,
    names: TopicNames,
    registry: RegistryClient,
    catalogue: Catalogue,
    releases: list[Release],
) -> None:
    spec = catalogue.get(SNAPSHOT_TOPIC)
    topic = names.topic(SNAPSHOT_TOPIC)
    await ensure_topics(settings, [renamed(spec, topic)])
    subject = names.subject(SNAPSHOT_TOPIC)
    if await registry.latest(subject) is None:
        await registry.register(subject, spec.schema_text)
        await registry.set_compatibility(subject, spec.compatibility)
    encoder = AvroEncoder(registry, subject, spec.schema)
    await encoder.prepare()
    producer = AIOKafkaProducer(
        **kafka_client_options(settings),
        acks="all",
        enable_idempotence=True,
        max_request_size=8 * 1024 * 1024,
        client_id="renkei-disclosure",
    )
    try:
        await producer.start()
        for release in releases:
            record = release.record
            headers = cloudevent_headers(
                event_id=str(record["event_id"]),
                source="/renkei/disclosure",
                event_type=str(spec.metadata.get("cloudevents_type", "")),
                time=record["recorded_at"],
                dataschema=None,
            )
            await producer.send_and_wait(
                topic,
                value=encoder.encode(record),
                key=release.municipality.encode("utf-8"),
                headers=headers,
            )
    except KafkaError as exc:
        raise StackError(f"could not publish the snapshot to {topic}: {exc}") from exc
    finally:
        await producer.stop()


async def take_snapshot(
    settings: Settings,
    rules: DisclosureRules,
    *,
    reference_date: dt.date | None = None,
    publish: bool = True,
    audit: AuditLog | None = None,
) -> SnapshotReport:
    """One snapshot (phases in the module docstring). ``publish=False``: compute and audit
    only (nothing is produced, no audit record)."""
    spec = job_spec(JOB)
    catalogue = load_catalogue(settings.schemas_dir)
    names = TopicNames(settings.topic_prefix)
    secret = load_or_create_secret(secret_path(settings))
    (facts_topic,) = spec.inputs
    async with registry_client(settings) as registry:
        decoder = AvroDecoder(registry, catalogue.get(facts_topic).schema)
        day = reference_date or dt.datetime.now(JST).date()

        async def person(value: bytes) -> Person | None:
            # Kept compact while reading: a large city's facts do not fit in memory as dicts.
            return person_from_facts(await decoder.decode(value), day)

        cut = await read_cut(settings, names.topic(facts_topic), person)
        people = [p for p in cut.values.values() if p is not None]
        previous = await _previous(settings, names, registry, catalogue)
        releases, refused = await asyncio.to_thread(
            release_all,
            people,
            rules,
            secret,
            cut_at=cut.taken_at,
            reference_date=day,
            previous=previous,
        )
        report = SnapshotReport(cut.taken_at, day, len(people), releases, refused, False)
        if not publish:
            return report
        if releases:
            await _publish(settings, names, registry, catalogue, releases)
    report = SnapshotReport(cut.taken_at, day, len(people), releases, refused, bool(releases))
    audit_log = audit or AuditLog.open(settings)
    try:
        await audit_log.record(
            "disclosure.released",
            actor=f"job:{JOB}",
            details={**report.summary(), "topic": names.topic(SNAPSHOT_TOPIC)},
        )
    finally:
        if audit is None:
            await audit_log.aclose()
    return report


async def run_every(
    settings: Settings,
    rules: DisclosureRules,
    every: dt.timedelta,
    *,
    on_report: Callable[[SnapshotReport | RenkeiError], None] | None = None,
) -> None:
    """Take a snapshot now and every ``every`` after it until cancelled. A failed snapshot is
    reported (``on_report`` gets the error; logged too) and the next one is taken on schedule;
    a refused table is never published."""
    if every.total_seconds() <= 0:
        raise ConfigurationError("the snapshot interval must be positive")
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        outcome: SnapshotReport | RenkeiError
        try:
            outcome = await take_snapshot(settings, rules)
            log.info("snapshot: %s", outcome.summary())
        except RenkeiError as exc:
            log.error("snapshot failed: %s", exc)
            outcome = exc
        if on_report is not None:
            on_report(outcome)
        await asyncio.sleep(max(0.0, every.total_seconds() - (loop.time() - started)))
