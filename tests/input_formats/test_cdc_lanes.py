"""The CDC adapter sends the connector's initial-snapshot rows (``op = r``, published with
``snapshot: as_recorded``) to the topic's bulk lane and live changes to the topic itself
(docs/cdc-input.md). No broker: the publisher's prepare and send are replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renkei.input_formats.cdc_adapter import CdcAdapter
from renkei.input_formats.cdc_connector import CdcTopics
from renkei.input_formats.cdc_events import MappedChange
from renkei.input_formats.csv_mapping import load_mapping
from renkei.input_formats.debezium import ChangeEvent
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")


class Prepared:
    def __init__(self) -> None:
        self.headers: list[tuple[str, bytes]] = []


async def test_snapshot_rows_go_to_the_bulk_lane_and_changes_to_the_topic() -> None:
    mapping = load_mapping(REPO / "deploy" / "mappings" / "jumin-kiroku-cdc.yaml")
    adapter = CdcAdapter(Settings(), CATALOGUE, mapping, CdcTopics("cdc.t", "public.jumin"), "g")
    publisher = Publisher(Settings(), CATALOGUE)
    sent: list[str] = []

    async def prepare(topic: str, value: Any) -> Prepared:
        sent.append(topic)
        return Prepared()

    async def send(record: Any) -> str:
        return "delivered"

    publisher.prepare = prepare  # type: ignore[method-assign]
    publisher.send = send  # type: ignore[method-assign]
    try:
        for op in ("r", "c", "u"):
            change = ChangeEvent(op, "public.jumin", None, {}, 1, None, 0)
            await adapter._send(publisher, MappedChange("event", change, {"resident_key": "k"}))
    finally:
        await publisher.registry.aclose()
    assert sent == [
        "registry.resident.events.bulk",
        "registry.resident.events",
        "registry.resident.events",
    ]
