"""Purpose-scoped views through the stage apps: only the agreed fields, per-purpose
pseudonyms, protection retraction across every output, and the disaster-release audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renkei.audit import AuditFile
from renkei.stages.views.pseudonym import load_or_create_key
from tests.stages import factories as f
from tests.stages.views.harness import ViewsHarness

REG, CARE = "std.registry.resident.events", "std.welfare.care.certifications"
CHECKUP, ALERTS = "std.health.checkup.results", "std.disaster.area.alerts"
HEALTH = "view.health-promotion.resident"
STAFF = "view.resident-services.resident"
NOTIFIER = "view.evacuation-support.evacuation-support"
DASHBOARD = "view.regional-dashboard.region-snapshot"
A, B = "000000000000911", "000000000000912"


def _top_fields(paths: tuple[str, ...]) -> set[str]:
    return {p.split(".")[0] for p in paths}


async def _two_residents(h: ViewsHarness) -> None:
    for key, n in ((A, 1), (B, 2)):
        hh = f.household(f"000000091{n}")
        await h.feed(REG, key, f.moved_in(key, "2026-04-01", 1, hh=hh))
        await h.feed(CHECKUP, key, f.checkup(key, "2026-06-01", 1, metabolic="meets"))


@pytest.mark.timeout(60)
async def test_a_view_holds_only_the_agreed_fields_under_pseudonymous_keys(
    tmp_path: Path,
) -> None:
    h = ViewsHarness(tmp_path)
    async with h.running():
        await _two_residents(h)
        health = h.view(HEALTH)
        plan = h.plans[HEALTH]
        assert len(health) == 2 and A not in health and B not in health
        for key, record in health.items():
            assert set(record) == _top_fields(plan.fields) | {"pseudonym_key_id"}
            assert set(record["checkup"]) == {
                p.split(".", 1)[1] for p in plan.fields if p.startswith("checkup.")
            }
            assert record["resident_key"] == key and len(key) == 64
            assert "family_name" not in record and "address" not in record
        secret = load_or_create_key(tmp_path / "secrets" / "pseudonym", "health-promotion")
        assert set(health) == {secret.pseudonym(A), secret.pseudonym(B)}
        assert {r["pseudonym_key_id"] for r in health.values()} == {secret.key_id}


@pytest.mark.timeout(60)
async def test_pseudonyms_are_stable_per_resident_and_differ_between_purposes(
    tmp_path: Path,
) -> None:
    h = ViewsHarness(tmp_path)
    async with h.running():
        await _two_residents(h)
        first = dict(h.view(HEALTH))
        await h.feed(REG, A, f.moved_within(A, "2026-07-01", 2, where=f.ADDRESS_B))
        staff = h.view(STAFF)
        health = h.view(HEALTH)
        assert set(health) == set(first)  # the move re-emitted A under the same pseudonym
        assert set(staff).isdisjoint(health)
        moved = [r for r in staff.values() if r["address"]["region_code"] == f.REGION_B]
        assert len(moved) == 1 and moved[0]["resident_key"] not in health


@pytest.mark.timeout(60)
async def test_protection_set_later_retracts_the_address_from_every_output_and_view(
    tmp_path: Path,
) -> None:
    h = ViewsHarness(tmp_path)
    address_text = f.ADDRESS_A["address_text"].encode()
    async with h.running():
        await h.feed(REG, A, f.moved_in(A, "2026-04-01", 1, who=f.person(birth="1940-01-01")))
        await h.feed(CARE, A, f.care(A, "2026-05-01", 1, "25"))
        alert = f.alert("R1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,))
        await h.feed(ALERTS, f.REGION_A, alert)
        outputs = ("unified.resident", "derived.evacuation-support", STAFF, NOTIFIER)
        for topic in outputs:  # published with the address first
            assert any(address_text in v for v in h.raw_latest(topic).values()), topic

        await h.feed(REG, A, f.protection_set(A, "2026-07-02", 2))

        for topic in outputs:  # the latest record per key no longer carries it
            latest = h.raw_latest(topic)
            assert latest and all(address_text not in v for v in latest.values()), topic
        assert h.produced("unified.resident")[A]["address"] is None
        lists = h.produced("derived.evacuation-support")
        assert lists[f"R1:{f.REGION_A}"]["persons"] == []  # off the 町域 list …
        listed = lists[f"R1:{f.MUNI}"]["persons"]  # … onto the municipality-level one
        assert listed[0]["address"] is None and listed[0]["address_withheld"] is True
        (staff,) = h.view(STAFF).values()
        assert staff["address"] is None and staff["address_redacted"] and staff["protected"]
        notified = [v for v in h.view(NOTIFIER).values() if v["persons"]]
        assert len(notified) == 1 and notified[0]["region_code"] == f.MUNI
        assert notified[0]["persons"][0]["address"] is None
        assert notified[0]["persons"][0]["address_withheld"] is True


def _released(home: Path) -> list[dict[str, Any]]:
    path = home / "audit" / "audit.jsonl"
    return [r for r in AuditFile(path).records() if r["kind"] == "evacuation.released"]


@pytest.mark.timeout(60)
async def test_a_disaster_release_is_audited_and_normal_mode_lists_only_consent(
    tmp_path: Path,
) -> None:
    h = ViewsHarness(tmp_path)
    async with h.running():
        await h.feed(REG, A, f.moved_in(A, "2026-04-01", 1, hh=f.household("0000000911")))
        await h.feed(REG, B, f.moved_in(B, "2026-04-01", 1, hh=f.household("0000000912")))
        await h.feed(CARE, A, f.care(A, "2026-05-01", 1, "25", consent=True))
        await h.feed(CARE, B, f.care(B, "2026-05-01", 1, "25", consent=False))

        level3 = f.alert("N1", "issued", 3, "2026-07-01", 1, regions=(f.REGION_A,))
        await h.feed(ALERTS, f.REGION_A, level3)
        normal = h.produced("derived.evacuation-support")[f"N1:{f.REGION_A}"]
        assert normal["mode"] == "normal"
        assert [p["resident_key"] for p in normal["persons"]] == [A]  # consent only
        assert _released(tmp_path) == []

        level4 = f.alert("D1", "issued", 4, "2026-07-02", 1, regions=(f.REGION_A,))
        await h.feed(ALERTS, f.REGION_A, level4)
        disaster = h.produced("derived.evacuation-support")[f"D1:{f.REGION_A}"]
        assert disaster["mode"] == "disaster" and disaster["count"] == 2
        released = _released(tmp_path)  # the 町域 list, and the municipality list (empty)
        assert {r["details"]["region_code"] for r in released} == {f.REGION_A, f.MUNI}
        (record,) = [r for r in released if r["details"]["region_code"] == f.REGION_A]
        assert record["details"]["alert_id"] == "D1"
        assert record["details"]["people"] == 2
        assert record["details"]["region_code"] == f.REGION_A
        assert record["actor"] == "stage:evacuation (t.renkei-evacuation)"
        assert record["recorded_at"].endswith("Z")
        assert A not in str(record) and B not in str(record)
        assert AuditFile(tmp_path / "audit" / "audit.jsonl").verify().ok
