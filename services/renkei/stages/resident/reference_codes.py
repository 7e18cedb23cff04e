"""The resident worker's reference data, and the trigger of a re-key scan.

The resident worker reads the ``ref.*`` topics like a standardize worker (a replicated reader,
``runtime/replicated.py``: every partition, no consumer group), but keeps only what a re-key
needs: the municipality code table of the newest complete release and its postal records still
encoded (one is decoded when a split ward's successor must be chosen by postal code). It does
not wait for them before serving: resident events never need reference data.

When the changes in effect *today* (the codes retired by today in Japan, and their successors:
:attr:`CodesInForce.changes_digest`) differ from the ones this worker last announced, it sends
one message to every partition of the internal topic ``renkei-resident-reorganisations``. The
worker owning a partition then scans its residents of that partition
(``stage.py``, ``reorganisation.py``). That happens

- once a worker has read the topics at start (a release or a date passed while it was down);
- when a release whose changes are already in effect becomes complete (at once);
- when a change's date comes for a release loaded before it: the worker checks the date every
  ``check_seconds`` (60 s), so a change effective on 2024-01-01 re-keys shortly after
  00:00 JST that day.

A release that changes no retirement (Japan Post's monthly postal changes) announces nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka.errors import KafkaError

from renkei.errors import StackError
from renkei.reference.follower import ReleaseFollower
from renkei.reference.municipalities import Municipalities
from renkei.reference.records import MUNICIPALITIES, POSTAL, release_from_records
from renkei.schemas.catalogue import Catalogue
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.stages.resident.reorganisation import CodesInForce, japan_today

log = logging.getLogger(__name__)

Announce = Callable[[dict[str, Any]], Awaitable[None]]
"""Sends the trigger message to every partition of the reorganisations topic."""


class ReferenceCodes:
    """Municipality codes in force today in this resident worker (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        registry: RegistryClient,
        announce: Announce,
        *,
        today: Callable[[], dt.date] = japan_today,
        check_seconds: float = 60.0,
    ) -> None:
        self.follower = ReleaseFollower(
            settings,
            catalogue,
            registry,
            client_id=f"{settings.topic_prefix}renkei-resident-reference",
            on_records=self._on_records,
        )
        self._announce = announce
        self._today = today
        self._check_seconds = check_seconds
        self._version: str | None = None
        self._table: Municipalities | None = None
        self._postal: dict[bytes, bytes] = {}
        self._postal_codes: dict[str, frozenset[str]] = {}
        self._codes: CodesInForce | None = None
        self._announced: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.announcements = 0

    @property
    def version(self) -> str | None:
        return self._version

    def codes(self) -> CodesInForce | None:
        """The codes of the newest complete release as of today (None: no release yet)."""
        if self._table is None or self._version is None:
            return None
        today = self._today()
        if (
            self._codes is None
            or self._codes.today != today
            or self._codes.release != self._version
        ):
            self._codes = CodesInForce(self._version, today, self._table, self.postal_codes)
        return self._codes

    def postal_codes(self, postal_code: str) -> frozenset[str]:
        """Municipality codes of the release's rows in force for ``postal_code``."""
        found = self._postal_codes.get(postal_code)
        if found is None:
            value = self._postal.get(postal_code.encode("utf-8"))
            rows = self.follower.decoders[POSTAL].decode_cached(value)["rows"] if value else []
            found = frozenset(r["municipality_code"] for r in rows if r["valid_to"] is None)
            self._postal_codes[postal_code] = found
        return found

    def start(self) -> None:
        """Read the reference topics, then follow them and check the date (in the background:
        the worker serves meanwhile)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.follower.reader.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.follower.reader.catch_up()
                break
            except (StackError, KafkaError) as exc:  # not applied yet, broker away, no ACL
                log.warning("reference data for re-keying not readable yet: %s", exc)
                await self.follower.reader.stop()
                await asyncio.sleep(self._check_seconds)
        self.follower.caught_up = True
        await self._take_newest()
        self.follower.reader.follow()
        while True:
            await self.check()
            await asyncio.sleep(self._check_seconds)

    async def _on_records(self) -> None:
        await self._take_newest()
        await self.check()

    async def _take_newest(self) -> None:
        manifest = self.follower.assembler.newest_complete()
        if manifest is None or manifest["release"] == self._version:
            return
        try:
            self._table, self._postal = await self._built(manifest)
        except Exception:
            log.exception(
                "reference release %s unreadable; keeping %s", manifest["release"], self._version
            )
            return
        previous, self._version = self._version, str(manifest["release"])
        self._postal_codes = {}
        self._codes = None
        log.info("re-keying with reference release %s (was %s)", self._version, previous or "none")

    async def _built(
        self, manifest: Mapping[str, Any]
    ) -> tuple[Municipalities, dict[bytes, bytes]]:
        name = str(manifest["release"])
        encoded = self.follower.assembler.values_of(MUNICIPALITIES, name)
        decoder = self.follower.decoders[MUNICIPALITIES]
        decoded = [await decoder.decode(value) for value in encoded]
        table = release_from_records(manifest, decoded, [], []).municipalities
        postal = {
            key: value
            for key, (release, value) in self.follower.assembler.records[POSTAL].items()
            if release == name
        }
        await self.follower.fetch_writer_schemas(POSTAL, postal.values())  # decoded later, cached
        return table, postal

    async def check(self) -> bool:
        """Announce a scan when the changes in effect today differ from those announced last;
        whether it did."""
        async with self._lock:
            codes = self.codes()
            if codes is None or codes.changes_digest == self._announced:
                return False
            if not codes.retired:
                self._announced = codes.changes_digest  # nothing retired: nothing to re-key
                return False
            message = {
                "release": codes.release,
                "as_of": codes.today.isoformat(),
                "changes": codes.changes_digest,
                "retired_codes": len(codes.retired),
                "sent_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            }
            try:
                await self._announce(message)
            except Exception as exc:  # the next check tries again
                log.warning("could not announce the reorganisations in effect: %r", exc)
                return False
            self._announced = codes.changes_digest
            self.announcements += 1
            log.info(
                "municipal changes in effect on %s (release %s, %d retired codes): re-keying "
                "residents",
                codes.today,
                codes.release,
                len(codes.retired),
            )
            return True
