"""Corrections and a late filing through the resident, region and evacuation workers on the
real broker and registry (issue 16, docs/corrections.md); and the replay proof on the broker:
the compacted outputs of the history as filed equal those of a clean run over the corrected
history.

After an alert's list is released: a 職権訂正 of an address takes a wrongly listed person off,
a correction of a birth date across the 75 line puts a person on, a late move-in filed after
the alert puts its person on — each as a new list version carrying ``correction`` — and a
correction of a move date moves that move-in from one day's record to the other's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from renkei.audit import AuditFile
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.conftest import AppliedSchemas, RunningStages, apply_schemas
from tests.integration.independent_client import read_all
from tests.integration.test_linkage_stages import _latest, _publish, _wait
from tests.stages import factories as f
from tests.stages.corrections.helpers import correction
from tests.stages.corrections.test_replay import NOT_COMPARED, TODAY, histories
from tests.stages.corrections.test_replay_kinds import move_out_date

pytestmark = pytest.mark.kafka
REG = "std.registry.resident.events"
CARE = "std.welfare.care.certifications"
ALERTS = "std.disaster.area.alerts"
LISTS = "derived.evacuation-support"
DAILY = "derived.region.daily-moves"
LISTED, WRONG_ADDRESS, ELDER, MOVER, LATE = (f"{n:015d}" for n in range(801, 806))
STAGES = (
    "resident",
    "tests.integration.corrections_stages:build_region_k1",
    "evacuation",
)


def _town() -> tuple[list[tuple[str, str, dict]], dict[str, dict]]:
    """Two care-level candidates in region A, a 74-year-old living alone, a resident whose
    move-in date was filed wrong. Returns (records, the events the corrections supersede)."""
    wrong_address = f.moved_in(WRONG_ADDRESS, "2026-04-03", 1, hh=f.household("0000000802"))
    elder = f.moved_in(
        ELDER, "2026-04-03", 1, who=f.person(birth="1951-08-01"), hh=f.household("0000000803")
    )
    mover = f.moved_in(MOVER, "2026-04-10", 1, hh=f.household("0000000804"))
    records = [
        (REG, LISTED, f.moved_in(LISTED, "2026-04-03", 1, hh=f.household("0000000801"))),
        (CARE, LISTED, f.care(LISTED, "2026-05-01", 1, "25")),
        (REG, WRONG_ADDRESS, wrong_address),
        (CARE, WRONG_ADDRESS, f.care(WRONG_ADDRESS, "2026-05-01", 1, "25")),
        (REG, ELDER, elder),
        (REG, MOVER, mover),
    ]
    return records, {"address": wrong_address, "birth": elder, "date": mover}


@pytest.mark.timeout(600)
def test_corrections_and_a_late_filing_through_the_workers(
    applied_schemas: AppliedSchemas, running_stages: RunningStages, tmp_path: Path
) -> None:
    settings, prefix = applied_schemas.settings, applied_schemas.prefix
    running_stages(*STAGES, env=applied_schemas.env, run="corrections")
    records, originals = _town()
    asyncio.run(_publish(settings, prefix, records))

    def settled(found: list[dict]) -> bool:
        latest = _latest(found)
        return len(latest) == 4 and latest[ELDER]["household"]["lives_alone"] is True

    _wait(settings, prefix + "unified.resident", settled)
    _wait(settings, prefix + DAILY, lambda r: f"{f.REGION_A}:2026-04-10" in _latest(r))
    alert = f.alert("C-1", "issued", 4, "2026-07-01", 1, regions=(f.REGION_A,))
    asyncio.run(_publish(settings, prefix, [(ALERTS, f.REGION_A, alert)]))
    list_key = f"C-1:{f.REGION_A}"

    def persons(found: list[dict]) -> set[str] | None:
        value = _latest(found).get(list_key)
        return None if value is None else {p["resident_key"] for p in value["persons"]}

    released = _latest(
        _wait(settings, prefix + LISTS, lambda r: persons(r) == {LISTED, WRONG_ADDRESS})
    )[list_key]
    assert released["correction"] is None

    noon = f.at("2026-07-01", 12)
    fixes = [
        (REG, WRONG_ADDRESS, correction(
            WRONG_ADDRESS, "2026-04-03", 2, originals["address"]["event_id"], noon,
            address=f.ADDRESS_B,
        )),
        (REG, ELDER, correction(
            ELDER, "2026-04-03", 2, originals["birth"]["event_id"], noon,
            person=f.person(birth="1951-03-01"),
        )),
        (REG, MOVER, correction(
            MOVER, "2026-04-01", 2, originals["date"]["event_id"], noon, date_corrected=True
        )),
        (REG, LATE, f.moved_in(
            LATE, "2026-06-20", 1, who=f.person(birth="1940-01-01"),
            hh=f.household("0000000805"), recorded=f.at("2026-07-02"),
        )),
    ]  # fmt: skip
    asyncio.run(_publish(settings, prefix, fixes))

    versions = _wait(settings, prefix + LISTS, lambda r: persons(r) == {LISTED, ELDER, LATE})
    corrected = [r["value"] for r in versions if r["key"] == list_key and r["value"]["correction"]]
    assert {(c["correction"]["added"], c["correction"]["removed"]) for c in corrected} >= {
        (0, 1),
        (1, 0),
    }
    sequences = [r["value"]["sequence"] for r in versions if r["key"] == list_key]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert all(c["correction"]["corrects_sequence"] < c["sequence"] for c in corrected)
    # each corrected version has its own audit record (written before the list is sent)
    audit = AuditFile(tmp_path / "corrections" / "audit" / "audit.jsonl").records()
    audited = {r["details"]["revision"] for r in audit if r["kind"] == "evacuation.corrected"}
    assert audited == {c["sequence"] for c in corrected}

    resident = _latest(_wait(
        settings, prefix + "unified.resident",
        lambda r: _latest(r)[MOVER].get("valid_from") == dt.date(2026, 4, 1)
        and _latest(r)[WRONG_ADDRESS]["region_code"] == f.REGION_B
        and _latest(r)[ELDER]["age"] == 75,
    ))  # fmt: skip
    assert resident[ELDER]["evacuation_support"]["reasons"] == ["aged_75_alone"]
    assert resident[MOVER]["recorded_through"] == noon

    def days_moved(found: list[dict]) -> bool:
        latest = _latest(found)
        return (
            latest.get(f"{f.REGION_A}:2026-04-01", {}).get("move_ins") == 1
            and latest.get(f"{f.REGION_B}:2026-04-03", {}).get("move_ins") == 1
        )

    daily = _latest(_wait(settings, prefix + DAILY, days_moved))
    assert daily[f"{f.REGION_A}:2026-04-10"]["move_ins"] is None  # 0: the move went to 04-01
    assert daily[f"{f.REGION_A}:2026-04-03"]["move_ins"] == 2  # LISTED, ELDER (not the wrong one)
    assert daily[f"{f.REGION_A}:2026-06-20"]["move_ins"] == 1  # the late move-in, on its day
    assert _latest(_wait(
        settings, prefix + "unified.region",
        lambda r: _latest(r).get(f.MUNI, {}).get("move_ins_total") == 5,
    ))[f.MUNI]["move_ins_total"] == 5  # fmt: skip


COMPARED = ("unified.resident", "internal.resident.facts", "unified.region", DAILY, LISTS)


def _compacted(settings: Settings, prefix: str) -> dict[str, dict[str, dict]]:
    """The latest record per key of each compared output, without the fields that describe the
    run rather than the state (the same rule as the pure-flow replay test)."""
    out: dict[str, dict[str, dict]] = {}
    for topic in COMPARED:
        latest = _latest(read_all(settings, prefix + topic, 10**6, timeout=3))
        out[topic] = {
            key: {name: value for name, value in datum.items() if name not in NOT_COMPARED[topic]}
            for key, datum in latest.items()
        }
        for datum in out[topic].values():
            if "suppressed" in datum:
                datum["suppressed"] = [n for n in datum["suppressed"] if n not in TODAY]
    return out


def _keyed(history: list[tuple[str, dict]]) -> list[tuple[str, str, dict]]:
    def key(topic: str, datum: dict) -> str:
        return str(datum["area_code"] if topic == ALERTS else datum["resident_key"])

    return [(topic, key(topic, datum), datum) for topic, datum in history]


@pytest.mark.timeout(900)
def test_outputs_after_corrections_compact_to_a_clean_run_on_the_broker(
    live_stack: Settings, catalogue: Catalogue, running_stages: RunningStages
) -> None:
    filed, clean = histories()
    runs = {"filed": filed, "clean": clean}
    applied = {name: apply_schemas(live_stack, catalogue, f"corr-{name}") for name in runs}
    for name, history in runs.items():
        workers = running_stages(*STAGES, env=applied[name].env, run=name)
        asyncio.run(_publish(applied[name].settings, applied[name].prefix, _keyed(history)))
        # settled: the list names the three expected people and the 異動日 correction arrived
        _wait(
            applied[name].settings,
            applied[name].prefix + LISTS,
            lambda r: (
                {p["resident_key"] for v in _latest(r).values() for p in v["persons"]}
                == {f"{n:015d}" for n in (3, 4, 5)}
            ),
            timeout=240,
        )
        _wait(
            applied[name].settings,
            applied[name].prefix + DAILY,
            lambda r: _latest(r).get(f"{f.REGION_A}:2026-04-01", {}).get("move_ins") == 1,
            timeout=240,
        )
        running_stages.assert_stopped_cleanly(workers)  # every output sent before it stops
    filed_out = _compacted(live_stack, applied["filed"].prefix)
    clean_out = _compacted(live_stack, applied["clean"].prefix)
    for topic in COMPARED:
        assert filed_out[topic], topic
        assert filed_out[topic] == clean_out[topic], topic


def _without_zero_days(filed: dict[str, dict], clean: dict[str, dict]) -> dict[str, dict]:
    """The filed run's per-day records without the days it retracted to zero (kept as a
    suppressed record by design, docs/corrections.md; a clean run never had them)."""
    kept = {}
    for key, datum in filed.items():
        zero = datum["move_ins"] is None and datum["move_outs"] is None
        if key in clean or not zero:
            kept[key] = datum
    return kept


@pytest.mark.timeout(900)
def test_a_corrected_move_out_date_on_the_broker(
    live_stack: Settings, catalogue: Catalogue, running_stages: RunningStages
) -> None:
    """A 転出 filed as 05-20 and corrected to 05-12 after the alert: both days re-emitted (05-20
    back to zero, 05-12 one move-out), the totals unchanged, and the compacted outputs equal a
    clean run's that filed 05-12 right."""
    filed, clean = move_out_date()
    runs = {"filed": filed, "clean": clean}
    applied = {name: apply_schemas(live_stack, catalogue, f"corr-out-{name}") for name in runs}
    moved = f"{f.REGION_A}:2026-05-12"
    stale = f"{f.REGION_A}:2026-05-20"
    for name, history in runs.items():
        settings, prefix = applied[name].settings, applied[name].prefix
        workers = running_stages(*STAGES, env=applied[name].env, run=f"out-{name}")
        if name == "filed":
            # the 転出 as filed is counted first (a batch would otherwise coalesce the facts of
            # the 転出 and of its correction into one), then the correction comes
            asyncio.run(_publish(settings, prefix, _keyed(history[:-1])))
            _wait(
                settings,
                prefix + DAILY,
                lambda r: _latest(r).get(stale, {}).get("move_outs") == 1,
                timeout=240,
            )
            history = history[-1:]
        asyncio.run(_publish(settings, prefix, _keyed(history)))
        _wait(
            settings,
            prefix + DAILY,
            lambda r: _latest(r).get(moved, {}).get("move_outs") == 1,
            timeout=240,
        )
        _wait(settings, prefix + LISTS, lambda r: f"A1:{f.REGION_A}" in _latest(r), timeout=240)
        running_stages.assert_stopped_cleanly(workers)
    filed_out = _compacted(live_stack, applied["filed"].prefix)
    clean_out = _compacted(live_stack, applied["clean"].prefix)
    assert filed_out[DAILY][stale]["move_outs"] is None  # retracted to zero, kept suppressed
    assert stale not in clean_out[DAILY]
    assert filed_out["unified.region"][f.REGION_A]["move_outs_total"] == 1
    filed_out[DAILY] = _without_zero_days(filed_out[DAILY], clean_out[DAILY])
    for topic in COMPARED:
        assert filed_out[topic], topic
        assert filed_out[topic] == clean_out[topic], topic
