"""The faust agents of the resident, region and evacuation stages, through ``test_context()``.

No broker: memory tables, a fake registry (httpx mock transport), and a fake ``send`` that
records what would be produced. A tiny "broker" delivers records sent to a stage's internal
topics back to that stage's agents (with the partition Kafka's default partitioner would
pick), and records sent to ``internal.resident.facts`` on to the region and evacuation apps.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import fastavro
import pytest

from renkei.runtime.app import StageApp
from renkei.schemas.jsonform import to_datum
from renkei.settings import Settings
from renkei.stages.evacuation.stage import broadcast_key, build_evacuation, default_partition
from renkei.stages.region.stage import build_region
from renkei.stages.resident.stage import build_resident
from tests.runtime.fake_registry import FakeRegistry
from tests.stages import factories as f

PREFIX = "t."
REG, CARE = "std.registry.resident.events", "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
TOPICS = (
    REG,
    "std.health.checkup.results",
    CARE,
    ALERTS,
    "std.economy.region.indicators",
    "unified.resident",
    "internal.resident.facts",
    "unified.region",
    "derived.region.daily-moves",
    "derived.evacuation-support",
)


class RecordingSend:
    """Stands in for the producer: records sends, returns already-delivered futures."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, int | None]] = []
        """(topic, key, value, partition); value None for a tombstone."""
        self.headers: list[list[tuple[str, bytes]]] = []
        """The headers of each record in ``sent``."""

    async def __call__(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        headers: Any,
    ) -> asyncio.Future[None]:
        self.sent.append((topic, key or b"", value, partition))
        self.headers.append(list(headers or []))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class Harness:
    def __init__(self, tmp_path: Any, disaster_mode: bool = False) -> None:
        self.registry = FakeRegistry()
        self.ids = {t: self.registry.add(f"{PREFIX}{t}-value", f.spec(t).schema) for t in TOPICS}
        settings = Settings(
            topic_prefix=PREFIX,
            schema_registry_url="http://registry.test/apis/ccompat/v7",
            home=tmp_path,
        )
        self.send = RecordingSend()
        common = {"store": "memory://", "send": self.send}
        self.apps: dict[str, StageApp] = {
            "resident": build_resident(
                settings, web_port=16999, registry=self.registry.client(), **common
            ),
            "region": build_region(
                settings, web_port=16999, registry=self.registry.client(), **common
            ),
            "evacuation": build_evacuation(
                settings,
                web_port=16999,
                registry=self.registry.client(),
                disaster_mode=disaster_mode,
                **common,
            ),
        }
        self.agents: dict[str, list[Any]] = {}

    def encode(self, topic: str, datum: dict[str, Any]) -> bytes:
        from renkei.serde.wire import frame

        schema = f.spec(topic).schema
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, f.spec(topic).parsed_schema, to_datum(schema, datum))
        return frame(self.ids[topic], buffer.getvalue())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Harness]:
        async with contextlib.AsyncExitStack() as stack:
            for app in self.apps.values():
                app.finalize()
                await app.builder.prepare_codecs()  # type: ignore[attr-defined]
                for agent in app.agents.values():
                    topic = agent.name.split(".", 1)[1]
                    wrapper = await stack.enter_async_context(agent.test_context())
                    self.agents.setdefault(PREFIX + topic, []).append(wrapper)
            yield self

    async def feed(self, topic: str, key: str, datum: dict[str, Any]) -> None:
        await self._deliver(PREFIX + topic, key.encode(), self.encode(topic, datum), None)

    async def _deliver(self, topic: str, key: bytes, value: bytes, partition: int | None) -> None:
        for wrapper in self.agents.get(topic, []):
            parts = wrapper.original_channel.partitions or 1
            part = partition if partition is not None else default_partition(key, parts)
            start = len(self.send.sent)
            await wrapper.put(value, key=key, partition=part)
            for _ in range(50):  # let the agent finish processing (put returns on receipt)
                await asyncio.sleep(0)
            for sent_topic, sent_key, sent_value, sent_partition in self.send.sent[start:]:
                if sent_topic in self.agents:
                    await self._deliver(sent_topic, sent_key, sent_value, sent_partition)

    def produced(self, topic: str) -> dict[str, dict[str, Any]]:
        """The latest decoded record per key sent to a catalogue topic."""
        latest: dict[str, dict[str, Any]] = {}
        for sent_topic, key, value, _ in self.send.sent:
            if sent_topic == PREFIX + topic:
                body = io.BytesIO(value[5:])
                latest[key.decode()] = fastavro.schemaless_reader(
                    body, f.spec(topic).parsed_schema, None
                )
        return latest


@pytest.mark.timeout(60)
async def test_alert_lists_a_candidate_through_all_three_stage_apps(tmp_path: Any) -> None:
    harness = Harness(tmp_path)
    elder, protected = "000000000000501", "000000000000502"
    async with harness.running():
        await harness.feed(
            REG,
            elder,
            f.moved_in(
                elder,
                "2026-04-01",
                1,
                who=f.person(birth="1940-01-01"),
                hh=f.household("0000000501"),
            ),
        )
        await harness.feed(
            REG,
            protected,
            f.moved_in(
                protected,
                "2026-04-01",
                1,
                hh=f.household("0000000502"),
                where=f.address(rest="9番9号"),  # not the elder's address
            ),
        )
        await harness.feed(CARE, protected, f.care(protected, "2026-05-01", 1, "25"))
        await harness.feed(REG, protected, f.protection_set(protected, "2026-05-02", 2))
        unified = harness.produced("unified.resident")
        assert unified[elder]["household"]["lives_alone"] is True
        assert unified[protected]["address"] is None and unified[protected]["address_redacted"]
        assert harness.produced("internal.resident.facts")[elder]["candidate_reasons"] == [
            "aged_75_alone"
        ]
        assert f.REGION_A in harness.produced("unified.region")
        daily = harness.produced("derived.region.daily-moves")[f"{f.REGION_A}:2026-04-01"]
        assert daily["move_ins"] is None and daily["suppressed"] == ["move_ins", "move_outs"]

        await harness.feed(
            ALERTS, f.REGION_A, f.alert("A9", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,))
        )
        record = harness.produced("derived.evacuation-support")[f"A9:{f.REGION_A}"]
        assert record["status"] == "active" and record["mode"] == "disaster"
        assert [p["resident_key"] for p in record["persons"]] == [elder]
        municipality = harness.produced("derived.evacuation-support")[f"A9:{f.MUNI}"]
        (listed,) = municipality["persons"]  # protected: on the municipality-level list only
        assert listed["resident_key"] == protected
        assert listed["address"] is None and listed["address_withheld"]
        assert listed["household_number"] == "" and listed["household_head_name"] is None

        await harness.feed(
            REG,
            elder,
            f.moved_within(elder, "2026-07-01", 2, where=f.ADDRESS_B, hh=f.household("0000000501")),
        )
        record = harness.produced("derived.evacuation-support")[f"A9:{f.REGION_A}"]
        assert record["persons"] == []

        await harness.feed(
            ALERTS, f.REGION_A, f.alert("A9", "lifted", 4, "2026-07-02", 2, regions=(f.REGION_A,))
        )
        record = harness.produced("derived.evacuation-support")[f"A9:{f.REGION_A}"]
        assert record["status"] == "lifted" and record["persons"] == []


@pytest.mark.timeout(60)
async def test_redelivered_inputs_produce_nothing_and_bad_bytes_go_to_the_dlq(
    tmp_path: Any,
) -> None:
    harness = Harness(tmp_path)
    key = "000000000000601"
    event = f.moved_in(key, "2026-04-01", 1)
    async with harness.running():
        await harness.feed(REG, key, event)
        count = len(harness.send.sent)
        await harness.feed(REG, key, event)
        assert len(harness.send.sent) == count
        await harness._deliver(PREFIX + REG, key.encode(), b"\x00garbage", None)
        topic, sent_key, value, _ = harness.send.sent[-1]
        assert (
            topic == f"{PREFIX}dlq.{REG}" and sent_key == key.encode() and value == b"\x00garbage"
        )


def test_broadcast_keys_land_on_every_partition() -> None:
    keys = [broadcast_key(f.MUNI, p, 3) for p in range(3)]
    assert [default_partition(k.encode(), 3) for k in keys] == [0, 1, 2]
    assert all(k.startswith(f"{f.MUNI}#") for k in keys)


@pytest.mark.timeout(60)
async def test_whole_municipality_alert_through_the_agents(tmp_path: Any) -> None:
    harness = Harness(tmp_path, disaster_mode=True)
    a, b = "000000000000801", "000000000000802"
    async with harness.running():
        for key, where in ((a, f.ADDRESS_A), (b, f.ADDRESS_B)):
            await harness.feed(
                REG,
                key,
                f.moved_in(key, "2026-04-01", 1, where=where, hh=f.household(f"0000000{key[-3:]}")),
            )
            await harness.feed(CARE, key, f.care(key, "2026-05-01", 1, "23"))
        alert = f.alert("W9", "issued", 3, "2026-07-01", 1, whole=True)
        await harness.feed(ALERTS, f.MUNI, alert)
        lists = harness.produced("derived.evacuation-support")
        assert {k: [p["resident_key"] for p in v["persons"]] for k, v in lists.items()} == {
            f"W9:{f.REGION_A}": [a],
            f"W9:{f.REGION_B}": [b],
        }
        assert all(v["mode"] == "disaster" for v in lists.values())  # operator override
