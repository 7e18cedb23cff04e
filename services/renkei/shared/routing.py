"""Re-keying resident facts by region, with the *departure* a re-key by value alone would lose.

``internal.resident.facts`` is keyed by ``resident_key``; the region and evacuation stages
aggregate by region. A plain ``group_by(region_code)`` would send a resident's new facts to the
new region only, and the old region would count them forever. So each of those stages keeps a
small table keyed by ``resident_key`` (co-partitioned with the facts topic) remembering which
region keys ("targets") the resident was last sent to, and sends

- to every current target: ``member: true`` with the facts;
- to every former target the resident left: ``member: false`` with the facts (the region counts
  a 転出 there, or just removes the person);
- with ``history`` (the region stage: the regions a resident's 転入/転出 were counted in), to
  every such target that is neither current nor just left, ``member: false``, whenever what
  ``history`` names changed: a correction of an old move reaches the region that counted it
  even after the resident has moved on (docs/corrections.md).

A stage may name what it reads of the facts (``reads``: a digest of those fields, or None
when a record must always be routed): a newer facts record whose digest equals the one last
routed, going to the same targets with none left or touched, is not routed at all — the
receiving side would only have stored its revision (the evacuation stage, for the facts a
household's growth re-emits with a new ``household_size`` it never reads). The entry takes
the record's revision, so an older record stays stale.

Each message carries the facts' ``sequence`` (the resident stage's per-resident output
revision) as ``rev``: the receiving side ignores a message not newer than what it holds for that
resident, so a redelivered or replayed facts record changes nothing. A facts record with the
same revision as the one held is routed again (its earlier sends may not have been delivered
before a crash); one with an older revision is stale and dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from renkei.shared.values import json_form

Targets = Callable[[dict[str, Any]], Sequence[str]]
Message = tuple[str, dict[str, Any]]


def route_facts(
    entry: dict[str, Any] | None,
    facts: dict[str, Any],
    targets: Targets,
    history: Callable[[dict[str, Any]], dict[str, list[Any]]] | None = None,
    reads: Callable[[dict[str, Any]], str | None] | None = None,
) -> tuple[dict[str, Any] | None, list[Message]]:
    """(new routing entry or None when unchanged, [(target key, message)]).

    ``history(facts)``: {target: what the facts say happened there}; a target whose entry
    differs from the one last routed gets the facts (``member: false`` unless current).
    ``reads(facts)``: the digest of what the receiving side reads (see the module
    docstring); None routes the record whatever it holds."""
    facts_json = json_form(facts)
    revision = int(facts_json["sequence"])
    entry = entry or {"targets": [], "left": [], "rev": 0}
    if revision < int(entry["rev"]):
        return None, []
    seen = dict(entry.get("history") or {})
    if revision == int(entry["rev"]):
        current, left, new_entry = list(entry["targets"]), list(entry["left"]), None
        touched = list(entry.get("touched") or [])
    else:
        current = list(dict.fromkeys(targets(facts_json)))
        left = [t for t in entry["targets"] if t not in current]
        new_entry = {"targets": current, "left": left, "rev": revision}
        touched = []
        if history is not None:
            now = {t: json_form(list(v)) for t, v in history(facts_json).items()}
            touched = [t for t in sorted(set(now) | set(seen)) if now.get(t) != seen.get(t)]
            touched = [t for t in touched if t not in current and t not in left]
            new_entry.update(history=now, touched=touched)
        if reads is not None:
            read = reads(facts_json)
            if (
                read is not None
                and read == entry.get("reads")
                and current == list(entry["targets"])
                and not left
                and not touched
            ):
                return {**entry, "rev": revision, "left": []}, []
            new_entry["reads"] = read
    base = {"resident_key": facts_json["resident_key"], "rev": revision, "facts": facts_json}
    messages: list[Message] = [
        (t, {**base, "target": t, "member": False}) for t in [*left, *touched]
    ]
    messages += [(t, {**base, "target": t, "member": True}) for t in current]
    return new_entry, messages


def last_revision(stored: dict[str, Any] | None) -> int:
    """Revision of the member entry a target holds for a resident (0 when none)."""
    return int(stored["rev"]) if stored else 0


def is_stale(stored: dict[str, Any] | None, message: dict[str, Any]) -> bool:
    """True when ``message`` is not newer than the member entry the target holds."""
    return int(message["rev"]) <= last_revision(stored)
