"""The ``ref.*`` topics as one worker follows them: every record into a release assembler.

A worker that needs reference data (standardize: the whole release; resident: the municipality
codes for re-keying) reads the reference topics whole, without a consumer group
(``runtime/replicated.py``), and collects each release's records until its manifest in
``ref.releases`` says it is complete (:class:`~renkei.reference.records.ReleaseAssembler`).
What the worker builds from a complete release is its own; :class:`ReleaseFollower` is the part
they share: the topics, their decoders, the assembler, and a callback after each batch once the
topics have been read to the end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from renkei.contracts.names import TopicNames
from renkei.reference.records import REFERENCE_TOPICS, RELEASE_HEADER, RELEASES, ReleaseAssembler
from renkei.runtime.replicated import ReplicatedTopics, Triple
from renkei.schemas.catalogue import Catalogue
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import RegistryClient
from renkei.serde.wire import unframe
from renkei.settings import Settings

OnRecords = Callable[[], Awaitable[None]]


class ReleaseFollower:
    """The reference topics of one worker (``client_id`` names it to the broker); after each
    batch read once :attr:`caught_up`, ``on_records`` is awaited."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        registry: RegistryClient,
        *,
        client_id: str,
        on_records: OnRecords,
    ) -> None:
        names = TopicNames(settings.topic_prefix)
        self._contract = {names.topic(t): t for t in REFERENCE_TOPICS}
        self.decoders = {
            topic: AvroDecoder(registry, catalogue.get(topic).schema) for topic in REFERENCE_TOPICS
        }
        self.assembler = ReleaseAssembler()
        self.reader = ReplicatedTopics(
            settings, list(self._contract), self.on_batch, client_id=client_id
        )
        self._on_records = on_records
        self.caught_up = False
        """True once the topics were read to the end (set by the worker when it has taken the
        newest complete release: at startup, that is built once, at the end)."""

    async def on_batch(self, triples: list[Triple]) -> None:
        """Records read from the topics: manifests and release records to the assembler."""
        for kafka_topic, key, value, headers in triples:
            topic = self._contract[kafka_topic]
            if topic == RELEASES:
                if value is not None:
                    self.assembler.add_manifest(await self.decoders[RELEASES].decode(value))
                continue
            release = headers.get(RELEASE_HEADER)
            self.assembler.add(topic, key or b"", release.decode() if release else None, value)
        if self.caught_up:
            await self._on_records()

    async def fetch_writer_schemas(self, topic: str, encoded: Iterable[bytes]) -> None:
        """Resolve each writer schema of ``encoded`` once (a registry lookup), so that the
        records can then be decoded without I/O (``decode_cached``, e.g. in a thread)."""
        firsts: dict[int, bytes] = {}
        for value in encoded:
            firsts.setdefault(unframe(value)[0], value)
        for value in firsts.values():
            await self.decoders[topic].decode(value)
