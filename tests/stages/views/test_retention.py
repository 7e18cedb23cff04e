"""Views honour the agreement's retention and remove people who left (issue 12, finding 5).

- a resident who moves out (転出) or dies leaves every view keyed by resident pseudonym as a
  tombstone (null value) under the purpose's pseudonym, with the view's own headers;
- each view topic's configs follow its agreement's ``retention_days`` (the shorter one when
  two agreements share the view);
- a ``delete`` view never gets a source record older than its retention (a replay).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from renkei.agreements.model import parse_agreement
from renkei.contracts.views import DAY_MS, plan_views, view_spec
from renkei.runtime.records import SourceRecord
from renkei.schemas.catalogue import Catalogue, load_catalogue
from renkei.stages.views.pseudonym import load_or_create_key
from renkei.stages.views.stage import too_old
from renkei.topics import topic_config
from tests.stages import factories as f
from tests.stages.views.harness import REPO, ViewsHarness

REG = "std.registry.resident.events"
HEALTH = "view.health-promotion.resident"
STAFF = "view.resident-services.resident"
NOTIFIER = "view.evacuation-support.evacuation-support"
A, B = "000000000000931", "000000000000932"
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
CONSUMER = """
id: {id}
title: t
role: consumer
principal: {id}
department: d
purpose: {purpose}
legal_basis: b
zone: lgwan
retention_days: {days}
consumer_group: {id}
topics:
  - topic: {topic}
    fields: [{fields}]
"""


def _agreement(id_: str, days: int, topic: str = "unified.resident", fields: str = "age"):  # type: ignore[no-untyped-def]
    return parse_agreement(
        CONSUMER.format(id=id_, purpose="p", days=days, topic=topic, fields=fields)
    )


async def _residents(h: ViewsHarness) -> None:
    for key, n in ((A, 1), (B, 2)):
        await h.feed(REG, key, f.moved_in(key, "2026-04-01", 1, hh=f.household(f"000000093{n}")))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("leaving", ["moved_out", "died"])
async def test_a_resident_who_leaves_gets_a_tombstone_in_every_resident_view(
    tmp_path: Path, leaving: str
) -> None:
    h = ViewsHarness(tmp_path)
    keys = tmp_path / "secrets" / "pseudonym"
    async with h.running():
        await _residents(h)
        for view, purpose in ((HEALTH, "health-promotion"), (STAFF, "resident-services")):
            assert load_or_create_key(keys, purpose).pseudonym(A) in h.view(view)
        event = f.moved_out if leaving == "moved_out" else f.died
        await h.feed(REG, A, event(A, "2026-08-01", 2))
        assert h.produced("unified.resident")[A]["status"] != "residing"
        for view, purpose in ((HEALTH, "health-promotion"), (STAFF, "resident-services")):
            pseudonym = load_or_create_key(keys, purpose).pseudonym(A)
            latest = h.view(view)
            assert pseudonym not in latest, view  # the tombstone removed them
            assert load_or_create_key(keys, purpose).pseudonym(B) in latest  # B stays
            tombstones = h.tombstones(view)
            assert [key for key, _ in tombstones] == [pseudonym.encode()], view
            headers = dict(tombstones[0][1])
            assert headers["ce_source"] == f"/renkei/views/{purpose}".encode()
            assert "content-type" not in headers and "ce_dataschema" not in headers
            assert A.encode() not in b"".join(v for _, v in tombstones[0][1])
        # A view keyed otherwise (lists by alert) gets no tombstone: its record says it all.
        assert h.tombstones(NOTIFIER) == []


def test_compacted_views_follow_the_agreement_retention() -> None:
    plans = {p.topic: p for p in plan_views([_agreement("a", 30)], CATALOGUE)}
    config = topic_config(plans["view.p.resident"].spec)
    assert config == {
        "cleanup.policy": "compact",
        "retention.ms": "-1",
        "max.compaction.lag.ms": str(DAY_MS),
        "delete.retention.ms": str(30 * DAY_MS),
    }
    # A retention shorter than a day bounds the compaction lag too... (days are whole: 1 day)
    short = topic_config(plan_views([_agreement("a", 1)], CATALOGUE)[0].spec)
    assert short["delete.retention.ms"] == short["max.compaction.lag.ms"] == str(DAY_MS)


def test_two_agreements_sharing_a_view_get_the_shorter_retention() -> None:
    for order in ((30, 7), (7, 30)):
        agreements = [_agreement(f"a{i}", days) for i, days in enumerate(order)]
        (plan,) = plan_views(agreements, CATALOGUE)
        assert plan.agreements == ("a0", "a1")
        assert topic_config(plan.spec)["delete.retention.ms"] == str(7 * DAY_MS)


def _delete_source() -> Catalogue:
    """The catalogue with unified.resident as a ``delete`` topic of 90 days (no such source
    is granted today; the rule must hold when one is)."""
    source = CATALOGUE.get("unified.resident")
    metadata = {**source.metadata, "cleanup_policy": "delete", "retention_ms": 90 * DAY_MS}
    changed = dataclasses.replace(source, metadata=metadata)
    return Catalogue(root=CATALOGUE.root, topics={**CATALOGUE.topics, source.topic: changed})


def _record(age_ms: int, now_ms: int) -> SourceRecord:
    return SourceRecord("t", "unified.resident", 0, 0, b"k", b"v", (), now_ms - age_ms)


def test_a_delete_view_keeps_the_shorter_retention_and_refuses_older_records() -> None:
    catalogue = _delete_source()
    (plan,) = plan_views([_agreement("a", 30)], catalogue)
    assert topic_config(plan.spec) == {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)}
    (longer,) = plan_views([_agreement("a", 365)], catalogue)
    assert longer.max_age_ms == 90 * DAY_MS  # the source's retention is shorter
    now = 1_800_000_000_000
    assert not too_old(plan, _record(29 * DAY_MS, now), now)
    assert too_old(plan, _record(31 * DAY_MS, now), now)  # a replay of old history
    untimed = dataclasses.replace(_record(0, now), timestamp_ms=None)
    assert not too_old(plan, untimed, now)


def test_a_compacted_view_projects_the_current_record_whatever_its_age() -> None:
    (plan,) = plan_views([_agreement("a", 7)], CATALOGUE)
    now = 1_800_000_000_000
    assert plan.max_age_ms is None
    assert not too_old(plan, _record(400 * DAY_MS, now), now)


def test_view_spec_retention_override_is_used() -> None:
    spec = view_spec(_agreement("a", 30), CATALOGUE.get("unified.resident"), ("age",), 3)
    assert spec.metadata["delete_retention_ms"] == 3 * DAY_MS
