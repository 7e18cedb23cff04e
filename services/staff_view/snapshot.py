"""The JSON the page renders (``/api/state``): the folded state, display-ready.

Codes are kept beside their Japanese labels. A count that small-cell suppression nulled
(named in the record's ``suppressed``) is ``{"value": null, "suppressed": true}``, never 0; a
value that is null for another reason (no checkups yet) is ``{"value": null, "suppressed":
false}`` and shown as "—". Persons carry no ``resident_key``: staff need the name, household
and address, not the internal number.
"""

from __future__ import annotations

from typing import Any

from staff_view.labels import (
    ADDRESS_WITHHELD,
    ADDRESS_WITHHELD_HOUSEHOLD,
    HAZARDS,
    LEVELS,
    MODES,
    REGION_FIGURES,
    SEXES,
    SUPPORT_REASONS,
    label,
)
from staff_view.places import RegionNames
from staff_view.state import ViewState

ELDERLY_PARTS = ("age_65_74", "age_75_plus")


def figure(region: dict[str, Any], name: str) -> dict[str, Any]:
    """One figure of a region record: its value and whether suppression hid it."""
    value = region.get(name)
    return {"value": value, "suppressed": value is None and name in region.get("suppressed", [])}


def elderly_rate(region: dict[str, Any]) -> dict[str, Any]:
    """高齢化率: residents 65+ ÷ population, only when every part is published."""
    population = region.get("population")
    elderly = [region.get(name) for name in ELDERLY_PARTS]
    if not population or any(part is None for part in elderly):
        hidden = set(region.get("suppressed", []))
        return {"value": None, "suppressed": bool(hidden & {"population", *ELDERLY_PARTS})}
    return {
        "value": round(sum(int(part or 0) for part in elderly) / population, 4),
        "suppressed": False,
    }


def region_view(region: dict[str, Any], names: RegionNames) -> dict[str, Any]:
    """A ``unified.region`` record as the page shows it."""
    figures = [
        {"field": name, "label": text, "kind": kind, **figure(region, name)}
        for name, text, kind in REGION_FIGURES
    ]
    figures.append(
        {"field": "elderly_rate", "label": "高齢化率（65歳以上）", "kind": "rate"}
        | elderly_rate(region)
    )
    code = str(region["region_code"])
    return {
        "region_code": code,
        "name": names.name(code),
        "scope": "town" if ":" in code else "municipality",
        "as_of": region.get("as_of"),
        "k_threshold": region.get("k_threshold"),
        "suppressed": list(region.get("suppressed", [])),
        "figures": figures,
        "indicators": list(region.get("indicators", [])),
    }


def person_view(person: dict[str, Any], withheld_households: set[str]) -> dict[str, Any]:
    """One listed person as the page shows them (address hidden when protected)."""
    hidden: str | None = None
    if person.get("address_withheld"):
        hidden = ADDRESS_WITHHELD
    elif str(person.get("household_number")) in withheld_households:
        hidden = ADDRESS_WITHHELD_HOUSEHOLD
    address = None if hidden else _address_text(person.get("address"))
    reasons = [str(code) for code in person.get("support_reasons", [])]
    return {
        "name": person.get("name"),
        "kana": person.get("kana"),
        "age": person.get("age"),
        "sex": person.get("sex"),
        "sex_label": label(SEXES, str(person.get("sex"))),
        "address": address,
        "address_withheld": bool(person.get("address_withheld")),
        "address_hidden": hidden,
        "support_reasons": reasons,
        "support_reason_labels": [label(SUPPORT_REASONS, code) for code in reasons],
        "household_number": person.get("household_number"),
        "household_head_name": person.get("household_head_name"),
        "consent_to_share": bool(person.get("consent_to_share")),
    }


def _address_text(address: dict[str, Any] | None) -> str | None:
    if not address:
        return None
    text = str(address.get("address_text") or "")
    building = address.get("building")
    if building and str(building) not in text:
        text = f"{text}　{building}"
    return text or None


def alert_view(
    lists: list[dict[str, Any]], names: RegionNames, withheld: set[str]
) -> dict[str, Any]:
    """One active alert: its latest header and the list of each region it covers."""
    lists = sorted(lists, key=lambda item: str(item["region_code"]))
    latest = max(lists, key=lambda item: str(item.get("updated_at")))
    level = int(latest["level"])
    return {
        "alert_id": latest["alert_id"],
        "level": level,
        "level_label": LEVELS.get(level, f"警戒レベル{level}"),
        "hazard": latest["hazard"],
        "hazard_label": label(HAZARDS, str(latest["hazard"])),
        "information_name": latest["information_name"],
        "mode": latest["mode"],
        "mode_label": label(MODES, str(latest["mode"])),
        "issued_at": min(str(item["issued_at"]) for item in lists),
        "updated_at": latest.get("updated_at"),
        "region_count": len(lists),
        "person_count": sum(int(item["count"]) for item in lists),
        "lists": [
            {
                "list_key": item["list_key"],
                "region_code": item["region_code"],
                "region_name": names.name(str(item["region_code"])),
                "count": int(item["count"]),
                "updated_at": item.get("updated_at"),
                "persons": [person_view(p, withheld) for p in item.get("persons", [])],
            }
            for item in lists
        ],
    }


def snapshot(state: ViewState, names: RegionNames) -> dict[str, Any]:
    """Regions and active alerts, JSON-ready (no loading status: the service adds it)."""
    codes = sorted(state.regions.records, key=lambda code: (":" not in code, code))
    for code in codes:  # 町域 first, so each municipality learns its city's name
        names.name(code)
    regions = [region_view(state.regions.records[code], names) for code in sorted(codes)]
    withheld = state.lists.withheld_households()
    alerts = [alert_view(lists, names, withheld) for lists in state.lists.alerts().values()]
    # Highest level first, then the newest alert.
    alerts.sort(key=lambda alert: (alert["level"], alert["issued_at"], alert["alert_id"]))
    alerts.reverse()
    return {
        "regions": regions,
        "alerts": alerts,
        "totals": {
            "regions": len(regions),
            "active_alerts": len(alerts),
            "active_lists": sum(alert["region_count"] for alert in alerts),
            "listed_persons": sum(alert["person_count"] for alert in alerts),
        },
    }
