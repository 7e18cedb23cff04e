"""Leaks by shape and by time (issue 12, finding 5): on main a view of ``unified.resident``
gave a 6-digit region code only to protected persons (so the code itself revealed the
支援措置), and the DLQ of a compacted source never expired."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renkei.contracts.dlq import dlq_spec
from renkei.contracts.names import TopicNames
from renkei.runtime.records import SourceRecord
from renkei.schemas.jsonform import to_datum
from renkei.stages.views.pseudonym import load_or_create_key
from renkei.stages.views.stage import view_output
from tests.stages import factories as f
from tests.stages.views.harness import view_plans

HEALTH = "view.health-promotion.resident"
DAY_MS = 24 * 3600 * 1000


def _resident(protected: bool) -> dict[str, Any]:
    spec = f.spec("unified.resident")
    datum = dict(to_datum(spec.schema, next(iter(spec.examples.values()))))
    datum["region_code"] = f.MUNI if protected else f.REGION_A
    datum["protected"] = datum["address_redacted"] = protected
    return datum


def test_an_egress_view_gives_everyone_the_same_region_granularity(tmp_path: Path) -> None:
    plan = next(p for p in view_plans() if p.topic == HEALTH)
    assert "region_code" in plan.fields
    key = load_or_create_key(tmp_path, plan.purpose)
    record = SourceRecord("t.unified.resident", "unified.resident", 0, 1, b"000000016180339", b"")
    shown = {
        protected: view_output(plan, key, record, _resident(protected)).value["region_code"]
        for protected in (False, True)
    }
    assert shown == {False: f.MUNI, True: f.MUNI}


def test_a_view_that_grants_the_address_keeps_the_town_region(tmp_path: Path) -> None:
    plans = [p for p in view_plans() if p.source.topic == "unified.resident"]
    with_address = [p for p in plans if any(x.startswith("address") for x in p.fields)]
    for plan in with_address:
        assert not plan.uniform_region, plan.topic


def test_the_dlq_of_a_compacted_source_expires() -> None:
    for topic in ("unified.resident", "derived.evacuation-support", "internal.resident.facts"):
        spec = dlq_spec(f.spec(topic), TopicNames(""), 6)
        assert spec.cleanup_policy == "delete"
        assert 0 < int(spec.metadata["retention_ms"]) <= 14 * DAY_MS, topic
    delete = dlq_spec(f.spec("registry.resident.events"), TopicNames(""), 6)
    assert int(delete.metadata["retention_ms"]) == 30 * DAY_MS  # a delete source's own


def test_household_numbers_are_pseudonymized_per_purpose(tmp_path: Path) -> None:
    """On main a view carried the 世帯番号 as is: two purposes could join on it."""
    spec = f.spec("derived.evacuation-support")
    value = dict(to_datum(spec.schema, next(iter(spec.examples.values()))))
    numbers = {p["household_number"] for p in value["persons"] if p["household_number"]}
    assert numbers
    record = SourceRecord("t.x", "derived.evacuation-support", 0, 1, b"L1", b"")
    plans = [
        p
        for p in view_plans()
        if p.source.topic == spec.topic and "persons.household_number" in p.fields
    ]
    assert len(plans) >= 2
    shown = []
    for plan in plans:
        out = view_output(plan, load_or_create_key(tmp_path, plan.purpose), record, value)
        got = {p["household_number"] for p in out.value["persons"] if p["household_number"]}
        assert got and not got & numbers
        shown.append(got)
    assert not shown[0] & shown[1]
