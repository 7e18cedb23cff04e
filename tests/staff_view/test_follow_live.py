"""Following a real topic with the subscriber SDK: the view says "loaded" only once it has
folded what the topic held at start (an empty page must not pass for "no alerts")."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
import uuid

import pytest

from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from renkei.topics import ensure_topics
from staff_view.follow import CatchUp, Source, end_offsets, follow
from staff_view.state import REGION_TOPIC, ViewState
from tests.runtime.kafka_helpers import committed

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]
CODES = ["011011", "011011:0640941", "011011:0600001", "011011:0600002", "011011:0600042"]


async def test_loaded_only_after_the_records_present_at_start(
    live_stack: Settings, catalogue: Catalogue, isolated_catalogue: Catalogue
) -> None:
    topic = next(t for t in isolated_catalogue.topics if t.endswith(REGION_TOPIC))
    prefix = topic.removesuffix(REGION_TOPIC)
    spec = isolated_catalogue.get(topic)
    await ensure_topics(live_stack, [spec])
    example = isolated_catalogue.get(topic).examples["town_area_suppressed"]
    async with Publisher(live_stack, isolated_catalogue) as publisher:
        await publisher.registry.register(spec.subject, spec.schema_text)
        for sequence, code in enumerate(CODES * 2, start=1):  # each key twice
            await publisher.publish(
                topic,
                {
                    **copy.deepcopy(example),
                    "region_code": code,
                    "sequence": sequence,
                    "event_id": str(uuid.uuid4()),
                },
            )
    assert sum((await end_offsets(live_stack, topic)).values()) == 10
    assert await end_offsets(live_stack, f"{prefix}no.such.topic") == {}

    settings = live_stack.model_copy(update={"topic_prefix": prefix})
    group = f"{prefix}staff-view-test"
    state = ViewState()
    source = Source(REGION_TOPIC, REGION_TOPIC, CatchUp(idle_seconds=60))
    task = asyncio.create_task(follow(settings, catalogue, source, state, group))
    try:
        deadline = time.monotonic() + 60
        while not source.catch_up.loaded(time.monotonic()):
            assert time.monotonic() < deadline, "never loaded"
            if task.done():
                task.result()  # raises what stopped the follower
            await asyncio.sleep(0.05)
        # the moment it says loaded, everything present at start is in the state
        assert source.records == 10
        assert sorted(state.regions.records) == sorted(CODES)
        assert {state.regions.sequences[c] for c in CODES} == set(range(6, 11))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # the view re-reads from the beginning at every start: it commits nothing
    assert all(offset < 0 for offset in (await committed(live_stack, group)).values())
