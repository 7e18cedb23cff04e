"""The platform's two protection rules, each in ONE place, for every output and view.

- **抑止 (支援措置, e.g. DV victims)**: :func:`redact_location` — a protected resident's address
  never leaves the platform: address null, region coarsened to the 6-digit municipality, and
  a flag saying it was withheld. The resident stage (``unified.resident``), the evacuation
  lists (``derived.evacuation-support``) and the views stage call it.
- **Small-cell suppression (小地域秘匿, k ≥ 10)**: :func:`shown_count` decides whether one
  count may be shown; :func:`suppress_small_cells` applies it to a region's raw figures
  (``unified.region``) and :func:`enforce_suppression` to an already built region record (the
  views stage, so a view never shows a cell below k even if a producer slipped).

:func:`protect_output` is what a consumer-facing projection (the views stage) runs on every
source record before projecting it: the rules above, by source topic.

Retraction: the rules are functions of the *current* state. When a 支援措置 arrives after a
resident's records were published, the resident stage re-emits ``unified.resident`` (content
changed), the resident's facts reach the evacuation stage, which re-emits every active list the
resident is on, and the views stage re-projects both; on compacted topics the redacted record
supersedes the earlier one under the same key (docs/privacy.md).
"""

from __future__ import annotations

from typing import Any

from renkei.shared.values import municipality_of

K_THRESHOLD = 10
"""Smallest count a region output may show (k-anonymity of small cells)."""
COUNT_FIELDS = (
    "population",
    "age_0_14",
    "age_15_64",
    "age_65_74",
    "age_75_plus",
    "households",
    "households_with_children_under_15",
    "move_ins_today",
    "move_outs_today",
    "move_ins_total",
    "move_outs_total",
    "checkup_participants",
    "evacuation_support_candidates",
)
RATE_FIELDS = ("checkup_participation_rate", "metabolic_syndrome_rate")
RESIDENT_TOPIC = "unified.resident"
EVACUATION_TOPIC = "derived.evacuation-support"
REGION_TOPIC = "unified.region"
SNAPSHOT_TOPIC = "derived.region-snapshot"
PROTECTED_TOPICS = (RESIDENT_TOPIC, EVACUATION_TOPIC, REGION_TOPIC, SNAPSHOT_TOPIC)
"""The topics :func:`protect_output` has a rule for; a view of any other is refused."""


def redact_location(
    address: dict[str, Any] | None, region_code: str, protected: bool
) -> tuple[dict[str, Any] | None, str, bool]:
    """(address, region_code, withheld) as an output may show them: under a 支援措置 the
    address is dropped and the region coarsened to the municipality. The only redaction rule."""
    if not protected:
        return address, region_code, False
    return None, municipality_of(region_code), True


def shown_count(value: int | None, k: int = K_THRESHOLD) -> bool:
    """Whether a count may be shown: only when it is at least ``k``. The only suppression rule
    (a rate or a net figure is shown only when every count it is made of is shown)."""
    return value is not None and value >= k


def suppress_small_cells(figures: dict[str, Any], k: int = K_THRESHOLD) -> dict[str, Any]:
    """Small-cell suppression (小地域秘匿) of a region's raw figures.

    ``figures`` holds raw counts (COUNT_FIELDS, ``age_bands`` as {band: count} in output
    order), each rate as a (numerator, denominator) pair, and
    ``net_migration_child_rearing_households`` as (in, out). A count below ``k`` becomes null;
    a rate or a net figure becomes null when any of its parts is below ``k``; every nulled field
    is named in ``suppressed`` (bands as ``age_bands.<band>``). Returns the output fields plus
    ``suppressed`` and ``k_threshold``.
    """
    out: dict[str, Any] = {}
    suppressed: list[str] = []

    def count(name: str, value: int | None) -> int | None:
        if shown_count(value, k):
            return int(value)  # type: ignore[arg-type]  # shown_count excludes None
        suppressed.append(name)
        return None

    for name in COUNT_FIELDS:
        out[name] = count(name, figures.get(name))
    out["age_bands"] = [
        {"band": band, "count": count(f"age_bands.{band}", value)}
        for band, value in figures["age_bands"].items()
    ]
    moved_in, moved_out = figures["net_migration_child_rearing_households"]
    if shown_count(moved_in, k) and shown_count(moved_out, k):
        out["net_migration_child_rearing_households"] = moved_in - moved_out
    else:
        out["net_migration_child_rearing_households"] = None
        suppressed.append("net_migration_child_rearing_households")
    for name in RATE_FIELDS:
        numerator, denominator = figures[name]
        if shown_count(numerator, k) and shown_count(denominator, k):
            out[name] = round(numerator / denominator, 4)
        else:
            out[name] = None
            suppressed.append(name)
    out["suppressed"] = suppressed
    out["k_threshold"] = k
    return out


def enforce_suppression(record: dict[str, Any], k: int = K_THRESHOLD) -> dict[str, Any]:
    """A built ``unified.region`` record with every count below ``k`` (and every field its
    producer named in ``suppressed``) null; a no-op on a correctly suppressed record."""
    suppressed = list(record.get("suppressed") or [])
    out = dict(record)
    for name in (*COUNT_FIELDS, *RATE_FIELDS, "net_migration_child_rearing_households"):
        if name not in out:
            continue
        value = out[name]
        too_small = name in COUNT_FIELDS and value is not None and not shown_count(value, k)
        if name in suppressed or too_small:
            out[name] = None
            if name not in suppressed:
                suppressed.append(name)
    bands = []
    for band in out.get("age_bands") or []:
        label = f"age_bands.{band['band']}"
        if label in suppressed or (band["count"] is not None and not shown_count(band["count"], k)):
            band = {**band, "count": None}
            if label not in suppressed:
                suppressed.append(label)
        bands.append(band)
    if "age_bands" in out:
        out["age_bands"] = bands
    if "suppressed" in out:
        out["suppressed"] = suppressed
    return out


def redact_resident(record: dict[str, Any]) -> dict[str, Any]:
    """A built ``unified.resident`` record redacted (address, 町域, household number) when the
    resident is protected or its address withheld."""
    protected = bool(record.get("protected") or record.get("address_redacted"))
    if not protected:
        return record
    address, region_code, withheld = redact_location(
        record.get("address"), str(record["region_code"]), True
    )
    redacted = {**record, "address": address, "region_code": region_code}
    redacted["address_redacted"] = withheld
    if isinstance(record.get("household"), dict):
        redacted["household"] = {**record["household"], "household_number": ""}
    return redacted


def redact_persons(record: dict[str, Any]) -> dict[str, Any]:
    """A built evacuation list with the address, household number and head name of every
    person marked withheld removed."""
    persons = [
        {**p, "address": None, "household_number": "", "household_head_name": None}
        if p.get("address_withheld")
        else p
        for p in record.get("persons") or []
    ]
    return {**record, "persons": persons}


def audited_snapshot(record: dict[str, Any]) -> dict[str, Any]:
    """A region snapshot is suppressed, audited and perturbed where it is produced (the
    disclosure job, docs/disclosure-control.md); a view passes it only when its audit passed."""
    if not (record.get("audit") or {}).get("passed"):
        raise ValueError("a region snapshot whose disclosure audit did not pass is never projected")
    return record


def protect_output(topic: str, record: dict[str, Any], k: int = K_THRESHOLD) -> dict[str, Any]:
    """Both rules applied to one built record of a contract ``topic``.

    Default deny: a topic with no rule here (a raw, internal or new topic) raises ValueError
    rather than pass through unredacted; a new consumer-facing topic gets its rule first."""
    if topic == RESIDENT_TOPIC:
        return redact_resident(record)
    if topic == EVACUATION_TOPIC:
        return redact_persons(record)
    if topic == REGION_TOPIC:
        return enforce_suppression(record, k)
    if topic == SNAPSHOT_TOPIC:
        return audited_snapshot(record)
    raise ValueError(
        f"no protection rule for topic {topic!r}: only {', '.join(PROTECTED_TOPICS)} "
        "may be projected to a view"
    )
