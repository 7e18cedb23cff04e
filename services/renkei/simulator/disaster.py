"""避難情報 (disaster.area.alerts): 警戒レベル 3/4/5 issued, sometimes raised, then lifted.

An alert covers the whole municipality (``target_region_codes`` then empty) or a run of
neighbouring 町域 (adjacent postal codes).
Key (``area_code``): the municipality code for the whole municipality or several areas, the
region code when one 町域 alone is concerned. Heavy-rain hazards are most frequent in the rainy
and typhoon season (June–October).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import DISASTER, jst_text

INFORMATION_NAMES = {3: "高齢者等避難", 4: "避難指示", 5: "緊急安全確保"}
HAZARD_NAMES = {
    "flood": "洪水",
    "landslide": "崖崩れ・土石流・地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "large_fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}
_HAZARD_WEIGHTS = {
    "flood": 30,
    "landslide": 22,
    "inland_flood": 14,
    "storm_surge": 5,
    "tsunami": 6,
    "earthquake": 10,
    "large_fire": 8,
    "volcano": 2,
}
_RAIN = frozenset({"flood", "landslide", "inland_flood", "storm_surge"})
_MAX_AREAS = 8


@dataclass(slots=True, eq=False)
class AlertEpisode:
    """One alert from issue to lifting."""

    alert_id: str
    hazard: str
    area_code: str
    whole: bool
    targets: list[str]
    issued_at: dt.datetime
    level: int
    steps: int = field(default=0)


def issuer_title(name: str, code: str) -> str:
    """Who issues: 区長 for Tokyo's special wards, else the mayor of the city, town or village."""
    if name.endswith("区"):
        return "区長" if code.startswith("131") else "市長"
    return {"町": "町長", "村": "村長"}.get(name[-1], "市長")


def _hazard(ctx: SimulationContext) -> str:
    rainy_season = 6 <= ctx.today.month <= 10
    names = list(_HAZARD_WEIGHTS)
    weights = [
        w * ((3.0 if rainy_season else 0.4) if n in _RAIN else 1.0)
        for n, w in _HAZARD_WEIGHTS.items()
    ]
    return ctx.rng.choices(names, weights=weights)[0]


def _targets(ctx: SimulationContext) -> tuple[bool, list[str]]:
    geography = ctx.world.geography
    regions = geography.region_codes
    if ctx.rng.random() < 0.3 or len(regions) == 1:
        return True, []  # the whole municipality: no list of areas
    count = ctx.rng.randint(1, min(_MAX_AREAS, len(regions)))
    first = ctx.rng.randrange(len(regions) - count + 1)
    return False, list(regions[first : first + count])


def _message(episode: AlertEpisode, lifted: bool) -> str:
    hazard = HAZARD_NAMES[episode.hazard]
    if lifted:
        return f"{hazard}の危険が低下したため、{INFORMATION_NAMES[episode.level]}を解除します。"
    return (
        f"{hazard}の危険が高まっています。警戒レベル{episode.level}"
        f"「{INFORMATION_NAMES[episode.level]}」を発令しました。"
    )


def _emit(ctx: SimulationContext, episode: AlertEpisode, action: str) -> None:
    lifted = action == "lifted"
    body: dict[str, Any] = {
        "alert_id": episode.alert_id,
        "area_code": episode.area_code,
        "action": action,
        "level": episode.level,
        "information_name": INFORMATION_NAMES[episode.level],
        "hazard": episode.hazard,
        "issued_at": jst_text(episode.issued_at),
        "lifted_at": jst_text(ctx.now) if lifted else None,
        "whole_municipality": episode.whole,
        "target_region_codes": list(episode.targets),
        "message": _message(episode, lifted),
        "issued_by": issuer_title(ctx.city, ctx.world.geography.code),
    }
    recorded = ctx.now + dt.timedelta(minutes=ctx.rng.randint(1, 5))
    ctx.emit(DISASTER, episode.area_code, ctx.today, recorded, body)


def issue_alert(ctx: SimulationContext) -> None:
    """A new alert is issued now; its escalation or lifting is scheduled."""
    hazard = _hazard(ctx)
    whole, targets = _targets(ctx)
    code = ctx.world.geography.code
    area = code if whole or len(targets) > 1 else targets[0]
    level = 4 if hazard == "tsunami" else ctx.rng.choices((3, 4, 5), weights=(65, 30, 5))[0]
    day = f"{ctx.now:%Y%m%d}"
    ctx.counters[f"alert-{day}"] += 1  # numbered per day by the sender, as in 435139-20260704-002
    alert_id = f"{code}-{day}-{ctx.counters[f'alert-{day}']:03d}"
    episode = AlertEpisode(alert_id, hazard, area, whole, targets, ctx.now, level)
    _emit(ctx, episode, "issued")
    _schedule_next(ctx, episode)


def _schedule_next(ctx: SimulationContext, episode: AlertEpisode) -> None:
    raise_chance = {3: 0.3, 4: 0.1}.get(episode.level, 0.0)
    if episode.steps < 2 and ctx.rng.random() < raise_chance:
        ctx.schedule(
            ctx.now + dt.timedelta(hours=ctx.rng.uniform(1, 6)),
            lambda later: _raise(later, episode),
        )
        return
    slow = episode.hazard in ("earthquake", "tsunami", "volcano")
    hours = ctx.rng.uniform(12, 72) if slow else ctx.rng.uniform(6, 48)
    ctx.schedule(ctx.now + dt.timedelta(hours=hours), lambda later: _emit(later, episode, "lifted"))


def _raise(ctx: SimulationContext, episode: AlertEpisode) -> None:
    episode.level += 1
    episode.steps += 1
    _emit(ctx, episode, "updated")
    _schedule_next(ctx, episode)
