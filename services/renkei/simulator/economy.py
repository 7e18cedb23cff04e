"""Regional economic indicators (economy.region.indicators), published monthly per 町域.

The 産業振興 department follows a panel of the municipality's 町域 (more of them for a bigger
population) and publishes last month's figures between the 10th and 25th of each month:
事業所数, 従業者数, 有効求人倍率, 空き店舗率 and 地価, each drifting month to month.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from functools import partial
from typing import Any

from renkei.simulator.care import add_months, month_end
from renkei.simulator.context import SimulationContext
from renkei.simulator.envelope import ECONOMY, office_time
from renkei.simulator.municipality import Municipality

RESIDENTS_PER_TRACKED_AREA = 150


@dataclass(slots=True)
class AreaEconomy:
    """Current figures of one 町域 in the panel."""

    region_code: str
    establishments: float
    employees_per_establishment: float
    vacant_shop_rate: float
    land_price: float


def _land_price_base(code: str, name: str) -> float:
    """円/㎡ by kind of place: Tokyo's special wards, other wards, cities, towns."""
    if code.startswith("131"):
        return 1_500_000.0
    if name.endswith("区"):
        return 250_000.0
    return 60_000.0 if name.endswith("市") else 20_000.0


class EconomyReporter:
    """Holds the panel and publishes its monthly figures."""

    def __init__(self, rng: random.Random, municipality: Municipality, residents: int) -> None:
        regions = municipality.region_codes
        tracked = min(len(regions), max(1, math.ceil(residents / RESIDENTS_PER_TRACKED_AREA)))
        chosen = sorted(rng.sample(range(len(regions)), tracked))
        base = _land_price_base(municipality.code, municipality.name)
        self.areas = [
            AreaEconomy(
                regions[i],
                rng.lognormvariate(math.log(80), 0.8),
                rng.uniform(5, 15),
                rng.uniform(3, 15),
                base * rng.lognormvariate(0, 0.35),
            )
            for i in chosen
        ]
        self.job_offers_ratio = rng.uniform(0.9, 1.5)

    def start(self, ctx: SimulationContext, first_period: dt.date) -> None:
        """Publish from the month before ``first_period``'s month onwards."""
        self._schedule_month(ctx, add_months(first_period, -1))

    def _schedule_month(self, ctx: SimulationContext, period_start: dt.date) -> None:
        period_end = month_end(period_start)
        rng = ctx.rng
        self.job_offers_ratio = max(0.3, self.job_offers_ratio + rng.gauss(0, 0.03))
        for area in self.areas:
            day = period_end + dt.timedelta(days=rng.randint(10, 25))
            ctx.schedule(
                office_time(rng, day),
                partial(self._publish, area=area, start=period_start, end=period_end),
            )
        following = add_months(period_start, 1)
        ctx.schedule(
            dt.datetime.combine(month_end(following) + dt.timedelta(days=1), dt.time()),
            lambda later: self._schedule_month(later, following),
        )

    def _publish(
        self, ctx: SimulationContext, area: AreaEconomy, start: dt.date, end: dt.date
    ) -> None:
        rng = ctx.rng
        area.establishments = max(1.0, area.establishments * (1 + rng.gauss(0, 0.01)))
        area.employees_per_establishment *= 1 + rng.gauss(0, 0.01)
        area.vacant_shop_rate = min(60.0, max(0.0, area.vacant_shop_rate + rng.gauss(0, 0.3)))
        area.land_price *= 1 + rng.gauss(0.001, 0.004)
        body = {
            "region_code": area.region_code,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "period_kind": "monthly",
            "indicators": self._indicators(area),
        }
        ctx.emit(ECONOMY, area.region_code, end, ctx.now, body)

    def _indicators(self, area: AreaEconomy) -> list[dict[str, Any]]:
        establishments = round(area.establishments)
        return [
            {
                "name": "事業所数",
                "value": float(establishments),
                "unit": "件",
                "source": "経済センサス推計",
            },
            {
                "name": "従業者数",
                "value": float(round(establishments * area.employees_per_establishment)),
                "unit": "人",
                "source": "経済センサス推計",
            },
            {
                "name": "有効求人倍率",
                "value": round(self.job_offers_ratio, 2),
                "unit": "倍",
                "source": "ハローワーク",
            },
            {
                "name": "空き店舗率",
                "value": round(area.vacant_shop_rate, 1),
                "unit": "%",
                "source": "商店街空き店舗調査",
            },
            {
                "name": "地価",
                "value": float(round(area.land_price, -2)),
                "unit": "円/㎡",
                "source": "地価調査",
            },
        ]
