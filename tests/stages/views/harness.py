"""The linkage stage apps plus the views app through ``test_context()`` (no broker).

Builds on tests/stages/test_stage_agents.Harness: records the resident and evacuation apps
send to ``unified.*``/``derived.*`` are delivered on to the views app's agents, and view
records are decoded with the view schemas.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import fastavro

from renkei.contracts.views import ViewPlan, load_view_plans
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings
from renkei.stages.views.stage import build_views
from tests.stages.test_stage_agents import PREFIX, Harness

REPO = Path(__file__).resolve().parents[3]


def view_plans() -> list[ViewPlan]:
    return load_view_plans(
        REPO / "deploy" / "agreements", load_catalogue(REPO / "schemas" / "avro")
    )


class ViewsHarness(Harness):
    """Resident, region, evacuation and views apps; audit file and keys under ``tmp_path``."""

    def __init__(self, tmp_path: Path, disaster_mode: bool = False) -> None:
        super().__init__(tmp_path, disaster_mode=disaster_mode)
        self.home = tmp_path
        self.plans = {plan.topic: plan for plan in view_plans()}
        for topic, plan in self.plans.items():
            self.ids[topic] = self.registry.add(f"{PREFIX}{topic}-value", plan.spec.schema)
        settings = Settings(
            topic_prefix=PREFIX,
            schema_registry_url="http://registry.test/apis/ccompat/v7",
            home=tmp_path,
        )
        self.apps["views"] = build_views(
            settings,
            web_port=16999,
            registry=self.registry.client(),
            send=self.send,
            plans=list(self.plans.values()),
        )

    def view(self, topic: str) -> dict[str, dict[str, Any]]:
        """The latest decoded record per key sent to a view topic (a tombstone removes the
        key, as compaction does)."""
        parsed = fastavro.parse_schema(self.plans[topic].spec.schema)
        latest: dict[str, dict[str, Any]] = {}
        for sent_topic, key, value, _ in self.send.sent:
            if sent_topic == PREFIX + topic:
                if value is None:
                    latest.pop(key.decode(), None)
                    continue
                latest[key.decode()] = fastavro.schemaless_reader(
                    io.BytesIO(value[5:]), parsed, None
                )
        return latest

    def tombstones(self, topic: str) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
        """(key, headers) of every tombstone sent to a view topic."""
        return [
            (key, headers)
            for (sent_topic, key, value, _), headers in zip(
                self.send.sent, self.send.headers, strict=True
            )
            if sent_topic == PREFIX + topic and value is None
        ]

    def raw_latest(self, topic: str) -> dict[bytes, bytes]:
        """Latest raw value per key of any topic (what compaction keeps)."""
        return {k: v for t, k, v, _ in self.send.sent if t == PREFIX + topic}
