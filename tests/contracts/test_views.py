"""View plans from the agreements and the projection of schemas and records."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import fastavro
import pytest

from renkei.agreements.model import parse_agreement
from renkei.audit import AuditFile, AuditLog
from renkei.contracts.view_projection import field_tree, project_value
from renkei.contracts.views import plan_views, view_spec
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import load_catalogue
from renkei.schemas.jsonform import to_datum
from renkei.schemas.models import RecordValidator
from renkei.settings import Settings
from renkei.stages.views.deliveries import DeliveryWindow, audit_window
from tests.stages.views.harness import REPO, view_plans

CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
PLANS = view_plans()
CONSUMER = """
id: {id}
title: t
role: consumer
principal: {id}
department: d
purpose: {purpose}
legal_basis: b
zone: lgwan
retention_days: 30
consumer_group: {id}
topics:
  - topic: unified.resident
    fields: [{fields}]
"""


def _agreement(id_: str, purpose: str, fields: str):  # type: ignore[no-untyped-def]
    return parse_agreement(CONSUMER.format(id=id_, purpose=purpose, fields=fields))


def test_every_consumer_agreement_has_its_view_topics() -> None:
    assert {p.topic for p in PLANS} >= {
        "view.evacuation-support.evacuation-support",
        "view.health-promotion.resident",
        "view.regional-dashboard.region-snapshot",
        "view.resident-services.resident",
    }
    for plan in PLANS:
        assert plan.spec.compatibility == "FULL_TRANSITIVE"
        assert plan.spec.partitions == plan.source.partitions
        assert plan.spec.cleanup_policy == plan.source.cleanup_policy


def test_field_tree_keeps_a_whole_field_over_its_parts() -> None:
    assert field_tree(["a.b", "a", "c.d", "c.e"]) == {"a": None, "c": {"d": None, "e": None}}


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.topic)
def test_every_source_example_projects_into_its_view_schema(plan) -> None:  # type: ignore[no-untyped-def]
    parsed = fastavro.parse_schema(plan.spec.schema)
    allowed = {p.split(".")[0] for p in plan.fields} | {"pseudonym_key_id"}
    for example in plan.source.examples.values():
        datum = to_datum(plan.source.schema, RecordValidator(plan.source.schema).validate(example))
        view = project_value(plan.spec.schema, datum, lambda k: "h" + k, "kid")
        assert set(view) <= allowed
        fastavro.schemaless_writer(io.BytesIO(), parsed, view)


def test_unknown_fields_and_conflicting_shared_views_are_refused() -> None:
    source = CATALOGUE.get("unified.resident")
    with pytest.raises(ConfigurationError, match="no field nickname"):
        view_spec(_agreement("a", "p", "nickname"), source, ("nickname",))
    with pytest.raises(ConfigurationError, match="different fields"):
        plan_views([_agreement("a", "p", "age"), _agreement("b", "p", "sex")], CATALOGUE)
    (shared,) = plan_views([_agreement("a", "p", "age"), _agreement("b", "p", "age")], CATALOGUE)
    assert shared.agreements == ("a", "b")


def test_resident_keys_at_any_depth_become_pseudonyms() -> None:
    plan = next(p for p in PLANS if p.topic == "view.evacuation-support.evacuation-support")
    persons = next(f for f in plan.spec.schema["fields"] if f["name"] == "persons")
    key_field = next(f for f in persons["type"]["items"]["fields"] if f["name"] == "resident_key")
    assert key_field["renkei.pseudonym"] == "hmac-sha256" and "renkei.format" not in key_field
    assert not plan.pseudonymous_key  # keyed by list_key, which holds no resident key
    assert plan.spec.pii["persons.resident_key"] == "identifier"


def test_view_delivered_counts_per_agreement_and_window(tmp_path: Path) -> None:
    times = iter([1000.0, 1060.0, 1120.0])
    window = DeliveryWindow(clock=lambda: next(times))
    window.add(("evacuation-notifier",), "view.evacuation-support.evacuation-support", 3)
    window.add(("a", "b"), "view.p.resident")
    audit = AuditLog.open(Settings(home=tmp_path), produce=False)
    asyncio.run(audit_window(window, audit, "stage:views"))
    asyncio.run(audit_window(window, audit, "stage:views"))  # an empty window writes nothing
    (record,) = AuditFile(tmp_path / "audit" / "audit.jsonl").records()
    assert record["kind"] == "view.delivered"
    assert record["details"] == {
        "window_start": "1970-01-01T00:16:40Z",
        "window_end": "1970-01-01T00:17:40Z",
        "deliveries": [
            {"agreement": "a", "view": "view.p.resident", "records": 1},
            {"agreement": "b", "view": "view.p.resident", "records": 1},
            {
                "agreement": "evacuation-notifier",
                "view": "view.evacuation-support.evacuation-support",
                "records": 3,
            },
        ],
    }


def test_the_views_worker_is_registered_on_port_offset_4(tmp_path: Path) -> None:
    from renkei.contracts.stages import STAGES, default_web_port
    from renkei.runtime.worker import load_builder
    from renkei.stages.views.stage import build_views

    assert load_builder("views") is build_views and "views" in STAGES
    assert default_web_port(Settings.model_construct(home=tmp_path), "views") == 6070
    assert default_web_port(Settings(home=tmp_path, worker_web_port_base=7500), "views") == 7504
