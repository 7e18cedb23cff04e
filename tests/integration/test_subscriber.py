"""The subscriber SDK against the real broker: typed values, commit after processing."""

from __future__ import annotations

import uuid

import pytest

from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from renkei.subscribe import Subscriber
from renkei.topics import ensure_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]
TOPIC = "registry.resident.events"


async def _publish_examples(settings: Settings, catalogue: Catalogue, topic: str) -> list[str]:
    spec = catalogue.get(topic)
    await ensure_topics(settings, [spec])
    async with Publisher(settings, catalogue) as publisher:
        await publisher.registry.register(spec.subject, spec.schema_text)
        ids = []
        for example in catalogue.get(topic).examples.values():
            # one partition's order is what a consumer group sees: use a single key
            value = {**example, "resident_key": "000000099999999"}
            await publisher.publish(topic, value)
            ids.append(value["event_id"])
    return ids


async def _take(
    settings: Settings,
    catalogue: Catalogue,
    topic: str,
    group: str,
    n: int,
    fail_on: int | None = None,
) -> list[str]:
    seen: list[str] = []
    async with Subscriber(settings, catalogue, topic, group_id=group) as subscriber:
        async for record in subscriber:
            assert record.value is not None
            seen.append(str(record.value.event_id))  # type: ignore[attr-defined]
            if fail_on is not None and len(seen) == fail_on:
                raise RuntimeError("the downstream service crashed while handling this record")
            if len(seen) == n:
                break
    return seen


async def test_records_are_typed_and_committed_only_after_processing(
    live_stack: Settings, isolated_catalogue: Catalogue
) -> None:
    topic = next(t for t in isolated_catalogue.topics if t.endswith(TOPIC))
    ids = await _publish_examples(live_stack, isolated_catalogue, topic)
    group = f"test-subscriber-{uuid.uuid4().hex[:8]}"

    assert await _take(live_stack, isolated_catalogue, topic, group, 3) == ids[:3]
    # The body fails on the 2nd record it gets: that record was not committed ...
    with pytest.raises(RuntimeError):
        await _take(live_stack, isolated_catalogue, topic, group, 5, fail_on=2)
    # ... so the group resumes with it: record 4 was committed, record 5 comes again.
    assert await _take(live_stack, isolated_catalogue, topic, group, 2) == ids[4:6]
