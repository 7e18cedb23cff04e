"""The region stage's steps over its table values, and the ``unified.region`` record.

Tables (all JSON dicts):
- routing, keyed by ``resident_key`` (co-partitioned with ``internal.resident.facts``):
  ``routing.route_facts`` entries;
- region, keyed by region key: ``RegionAggregate``; member entries under
  :func:`member_key`; child-rearing migration marks under :func:`household_key`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from renkei.privacy.protection import K_THRESHOLD, shown_count, suppress_small_cells
from renkei.shared.routing import Message, route_facts
from renkei.shared.values import (
    ENVELOPE,
    as_order_key,
    aware_datetime,
    digest,
    iso_date,
    json_form,
    order_key,
)
from renkei.stages.region.migration import households_of, load_marks, migration_history
from renkei.stages.region.state import (
    BANDS_5Y,
    RegionAggregate,
    apply_member,
    changed_days,
    later_date,
    region_as_of,
    region_targets,
)

REGION_TOPIC = "unified.region"
DAILY_TOPIC = "derived.region.daily-moves"
"""Per-day move figures, one record per ``<region_code>:<day>`` (docs/corrections.md)."""


def apply_indicators(agg: RegionAggregate, event: dict[str, Any]) -> RegionAggregate:
    """Keep the latest value of each indicator (by period end, then event order)."""
    event = json_form(event)
    order = list(order_key(event))
    indicators = dict(agg.indicators)
    for item in event.get("indicators") or []:
        held = indicators.get(item["name"])
        candidate = {
            "value": float(item["value"]),
            "unit": item["unit"],
            "period_end": str(event["period_end"]),
            "order": order,
        }
        if held is None or (candidate["period_end"], as_order_key(order)) > (
            held["period_end"],
            as_order_key(held["order"]),
        ):
            indicators[item["name"]] = candidate
    if indicators == agg.indicators:
        return agg
    agg = dataclasses.replace(
        agg,
        indicators=indicators,
        municipality_code=agg.municipality_code or event.get("municipality_code"),
        indicators_as_of=later_date(agg.indicators_as_of, str(event["effective_date"])),
    )
    return dataclasses.replace(agg, as_of=region_as_of(agg))


def member_key(region_code: str, resident_key: str) -> str:
    return f"{region_code}|member|{resident_key}"


def household_key(region_code: str, household_number: str) -> str:
    return f"{region_code}|household|{household_number}"


def _checkup_year(counters: dict[str, int]) -> int | None:
    years = [int(k.split(":")[1]) for k in counters if k.startswith("checkup:")]
    return max(years) if years else None


def region_figures(agg: RegionAggregate) -> dict[str, Any]:
    """Raw (unsuppressed) figures of a region, in the shape ``suppress_small_cells`` takes."""
    c = agg.counters
    year = _checkup_year(c)

    def per_year(name: str) -> int:
        return c.get(f"checkup:{year}:{name}", 0) if year is not None else 0

    today = agg.moves_by_day.get(agg.day or "", [0, 0])
    return {
        "population": c.get("population", 0),
        **{name: c.get(name, 0) for name in ("age_0_14", "age_15_64", "age_65_74", "age_75_plus")},
        "age_bands": {band: c.get(f"band:{band}", 0) for band in BANDS_5Y},
        "households": c.get("households", 0),
        "households_with_children_under_15": c.get("households_with_children_under_15", 0),
        "move_ins_today": today[0],
        "move_outs_today": today[1],
        "move_ins_total": agg.move_totals[0],
        "move_outs_total": agg.move_totals[1],
        "net_migration_child_rearing_households": agg.child_household_moves,
        "checkup_fiscal_year": year,
        "checkup_participants": per_year("participants"),
        "checkup_participation_rate": (per_year("participants_40_74"), c.get("eligible_40_74", 0)),
        "metabolic_syndrome_rate": (per_year("meets"), per_year("judged")),
        "evacuation_support_candidates": c.get("candidates", 0),
    }


def _indicators(agg: RegionAggregate) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "value": held["value"],
            "unit": held["unit"],
            "period_end": iso_date(held["period_end"]),
        }
        for name, held in sorted(agg.indicators.items())
    ]


def region_record(agg: RegionAggregate, trigger: dict[str, Any], k: int) -> dict[str, Any]:
    """The ``unified.region`` datum (Avro form), suppressed; ``sequence`` = revision + 1."""
    figures = region_figures(agg)
    as_of = agg.as_of or str(trigger["effective_date"])
    return {
        "event_id": trigger["event_id"],
        "municipality_code": agg.municipality_code or trigger["municipality_code"],
        "effective_date": iso_date(trigger["effective_date"]),
        "recorded_at": aware_datetime(trigger["recorded_at"]),
        "sequence": agg.revision + 1,
        "region_code": agg.region_code,
        "as_of": iso_date(as_of),
        "day": iso_date(agg.day or as_of),
        "checkup_fiscal_year": figures["checkup_fiscal_year"],
        "indicators": _indicators(agg),
        **suppress_small_cells(figures, k),
    }


def day_key(region_code: str, day: str) -> str:
    """Key of a per-day record: ``<region_code>:<day>`` (e.g. ``011011:0640941:2026-04-01``)."""
    return f"{region_code}:{day}"


def day_record(agg: RegionAggregate, day: str, trigger: dict[str, Any], k: int) -> dict[str, Any]:
    """The per-day move figures of one region and day (suppressed like every region count);
    ``sequence`` is the day's own revision."""
    ins, outs = (agg.moves_by_day.get(day) or [0, 0])[:2]
    suppressed = [
        name for name, n in (("move_ins", ins), ("move_outs", outs)) if not shown_count(n, k)
    ]
    return {
        "event_id": trigger["event_id"],
        "municipality_code": agg.municipality_code or trigger["municipality_code"],
        "effective_date": iso_date(trigger["effective_date"]),
        "recorded_at": aware_datetime(trigger["recorded_at"]),
        "sequence": agg.day_revisions.get(day, 0),
        "day_key": day_key(agg.region_code, day),
        "region_code": agg.region_code,
        "day": iso_date(day),
        "move_ins": ins if shown_count(ins, k) else None,
        "move_outs": outs if shown_count(outs, k) else None,
        "suppressed": suppressed,
        "k_threshold": k,
    }


def _emit_days(
    before: RegionAggregate, after: RegionAggregate, trigger: dict[str, Any], k: int
) -> tuple[RegionAggregate, list[tuple[str, dict[str, Any]]]]:
    """Exactly the days whose counts a message changed, each as its own keyed record."""
    days = changed_days(before, after)
    if not days:
        return after, []
    revisions = dict(after.day_revisions)
    for day in days:
        revisions[day] = revisions.get(day, 0) + 1
    horizon = min(after.moves_by_day) if after.moves_by_day else None
    revisions = {d: r for d, r in revisions.items() if horizon is None or d >= horizon}
    after = dataclasses.replace(after, day_revisions=revisions)
    return after, [(day_key(after.region_code, d), day_record(after, d, trigger, k)) for d in days]


@dataclass(frozen=True)
class RegionResult:
    """Table values to store (key → value; None values delete nothing, they are tombstones
    kept as entries), ``unified.region`` records to send (key region_code) and per-day records
    (key ``<region_code>:<day>``, :data:`DAILY_TOPIC`)."""

    store: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    days: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _emit(
    agg: RegionAggregate, trigger: dict[str, Any], k: int
) -> tuple[RegionAggregate, list[tuple[str, dict[str, Any]]]]:
    record = region_record(agg, trigger, k)
    content = digest({key: v for key, v in record.items() if key not in ENVELOPE})
    if content == agg.digest:
        return agg, []
    agg = dataclasses.replace(agg, revision=agg.revision + 1, digest=content)
    return agg, [(agg.region_code, record)]


def _trigger(source: dict[str, Any]) -> dict[str, Any]:
    keys = ("event_id", "municipality_code", "effective_date", "recorded_at")
    return {k: source[k] for k in keys}


def _load(stored: dict[str, Any] | None, region_code: str) -> RegionAggregate:
    return RegionAggregate.from_dict(stored) if stored else RegionAggregate(region_code=region_code)


def on_member_message(
    stored: dict[str, Any] | None,
    member: dict[str, Any] | None,
    marks: dict[str, dict[str, Any] | None],
    message: dict[str, Any],
    k: int = K_THRESHOLD,
) -> RegionResult:
    """One routed facts message for region ``message['target']``.

    ``stored``/``member``: the values under the region key and :func:`member_key`; ``marks``:
    household number → the value under its :func:`household_key`, for every household
    :func:`migration.households_of` names."""
    region_code = message["target"]
    before = _load(stored, region_code)
    held = {h: load_marks(value) for h, value in marks.items()}
    change = apply_member(before, member, message, held)
    if change is None:
        return RegionResult()
    facts = message["facts"]
    agg, days = _emit_days(before, change.aggregate, _trigger(facts), k)
    agg, outputs = _emit(agg, _trigger(facts), k)
    store = {
        region_code: agg.to_dict(),
        member_key(region_code, message["resident_key"]): change.member,
    }
    for household, household_marks in change.household_marks.items():
        store[household_key(region_code, household)] = {"marks": household_marks}
    return RegionResult(store=store, outputs=outputs, days=days)


def on_indicators(
    stored: dict[str, Any] | None, event: dict[str, Any], k: int = K_THRESHOLD
) -> RegionResult:
    """A ``std.economy.region.indicators`` datum for its region."""
    event = json_form(event)
    region_code = event["region_code"]
    before = _load(stored, region_code)
    after = apply_indicators(before, event)
    if after is before:
        return RegionResult()
    agg, outputs = _emit(after, _trigger(event), k)
    return RegionResult(store={region_code: agg.to_dict()}, outputs=outputs)


Store = MutableMapping[str, Any]
"""A table: a faust Table in the stage, a dict in tests."""


def handle_facts(routing: Store, facts: dict[str, Any]) -> list[Message]:
    """Route one ``internal.resident.facts`` datum: [(region key, message)] to send (to the
    regions the resident is in or just left, and to those whose migration counts it changes)."""
    key = str(facts["resident_key"])
    entry, messages = route_facts(routing.get(key), facts, region_targets, migration_history)
    if entry is not None:
        routing[key] = entry
    return messages


def apply_member_message(
    regions: Store, message: dict[str, Any], k: int = K_THRESHOLD
) -> RegionResult:
    """Apply one routed facts message to the region table; the records to send (both kinds)."""
    region_code = message["target"]
    member = regions.get(member_key(region_code, message["resident_key"]))
    households = households_of(message["facts"], member)
    result = on_member_message(
        regions.get(region_code),
        member,
        {h: regions.get(household_key(region_code, h)) for h in households},
        message,
        k,
    )
    for key, value in result.store.items():
        regions[key] = value
    return result


def handle_member_message(
    regions: Store, message: dict[str, Any], k: int = K_THRESHOLD
) -> list[tuple[str, dict[str, Any]]]:
    """Apply one routed facts message to the region table; ``unified.region`` records to send."""
    return apply_member_message(regions, message, k).outputs


def handle_indicators(
    regions: Store, event: dict[str, Any], k: int = K_THRESHOLD
) -> list[tuple[str, dict[str, Any]]]:
    """Apply one std indicators datum to the region table; ``unified.region`` records."""
    result = on_indicators(regions.get(str(event["region_code"])), event, k)
    for key, value in result.store.items():
        regions[key] = value
    return result.outputs
