"""Publishing a reference release to the ``ref.*`` topics (``renkei ref load``).

The data records go first (``ref.municipalities``, ``ref.postal``, ``ref.codes``), each with the
header ``renkei.ref.release``; only when the broker has acknowledged all of them is the manifest
sent to ``ref.releases``. A worker therefore never sees a manifest whose records could still be
lost, and takes the release only once it holds every record the manifest counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from renkei.contracts.names import TopicNames
from renkei.errors import ConfigurationError, PublishError, RegistryError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.reference.records import REFERENCE_TOPICS, RELEASE_HEADER, RELEASES, release_records
from renkei.reference.release import ReferenceRelease
from renkei.schemas.catalogue import Catalogue, renamed
from renkei.serde.avro import AvroEncoder
from renkei.serde.registry import registry_client
from renkei.settings import Settings
from renkei.topics import ensure_topics

__all__ = ["LoadResult", "publish_release"]


@dataclass(frozen=True)
class LoadResult:
    version: str
    counts: dict[str, int]
    seconds: float


async def publish_release(
    settings: Settings, catalogue: Catalogue, release: ReferenceRelease, *, owner: str
) -> LoadResult:
    """Publish ``release``; ``owner`` is the publishing municipality's code."""
    started = dt.datetime.now(dt.UTC)
    names = TopicNames(settings.topic_prefix)
    specs = [catalogue.get(t) for t in REFERENCE_TOPICS]
    await ensure_topics(settings, [renamed(s, names.topic(s.topic)) for s in specs])
    registry = registry_client(settings)
    producer = AIOKafkaProducer(
        **kafka_client_options(settings),
        acks="all",
        enable_idempotence=True,
        linger_ms=50,
        max_batch_size=512 * 1024,
        client_id="renkei-ref-load",
    )
    try:
        encoders = {}
        for spec in specs:
            encoder = AvroEncoder(registry, names.subject(spec.topic), spec.schema)
            try:
                await encoder.prepare()
            except RegistryError as exc:
                raise ConfigurationError(
                    f"{names.subject(spec.topic)}: schema not registered ({exc}); "
                    "run `renkei schemas apply` first"
                ) from exc
            encoders[spec.topic] = encoder
        try:
            await producer.start()
        except KafkaError as exc:
            raise StackError(
                f"Kafka at {settings.kafka_bootstrap} not reachable; is the stack up?"
            ) from exc
        header = [(RELEASE_HEADER, release.version.encode())]
        counts: Counter[str] = Counter()
        manifest = None
        futures = []
        for topic, key, datum in release_records(release, owner=owner, published_at=started):
            if topic == RELEASES:
                manifest = (key, datum)
                continue
            value = encoders[topic].encode(datum)
            futures.append(
                await producer.send(
                    names.topic(topic), value=value, key=key.encode(), headers=header
                )
            )
            counts[topic] += 1
        for future in futures:
            await future
        assert manifest is not None
        key, datum = manifest
        await (
            await producer.send(
                names.topic(RELEASES),
                value=encoders[RELEASES].encode(datum),
                key=key.encode(),
                headers=header,
            )
        )
    except KafkaError as exc:
        raise PublishError(f"reference release not published: {type(exc).__name__}") from exc
    finally:
        await producer.stop()
        await registry.aclose()
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return LoadResult(release.version, dict(counts), seconds)
