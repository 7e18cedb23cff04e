"""Per-day move figures under corrections and late filings (docs/corrections.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from renkei.stages.region.flow import DAILY_TOPIC
from tests.stages import factories as f
from tests.stages.corrections.helpers import correction
from tests.stages.pipeline import Platform, RegionSim

REG = "std.registry.resident.events"


def key(n: int) -> str:
    return f"{n:015d}"


def platform_k1() -> Platform:
    """k = 1 so that single moves are visible (the suppression rule is tested elsewhere)."""
    return Platform(region=RegionSim(k=1))


def move_in(n: int, eff: str, *, where: dict[str, Any] = f.ADDRESS_A, recorded: str | None = None):  # type: ignore[no-untyped-def]
    return f.moved_in(
        key(n), eff, 1, where=where, hh=f.household(f"{n:010d}"), recorded=f.at(recorded or eff)
    )


def days(records: list[tuple[str, str, dict[str, Any]]]) -> dict[str, tuple[Any, Any]]:
    return {k: (d["move_ins"], d["move_outs"]) for t, k, d in records if t == DAILY_TOPIC}


def day(region: str, iso: str) -> str:
    return f"{region}:{iso}"


def test_a_corrected_move_date_moves_the_count_from_one_day_to_the_other() -> None:
    platform = platform_k1()
    first = move_in(1, "2026-04-10")
    platform.feed(REG, first)
    platform.feed(REG, move_in(2, "2026-04-10"))
    assert days(platform.log)[day(f.REGION_A, "2026-04-10")] == (2, None)
    fix = correction(
        key(1), "2026-04-01", 2, first["event_id"], f.at("2026-04-20"), date_corrected=True
    )
    emitted = platform.feed(REG, fix)
    assert days(emitted) == {
        day(f.REGION_A, "2026-04-01"): (1, None),
        day(f.REGION_A, "2026-04-10"): (1, None),
        day(f.MUNI, "2026-04-01"): (1, None),
        day(f.MUNI, "2026-04-10"): (1, None),
    }
    region = platform.latest("unified.region")[f.REGION_A]
    assert region["move_ins_total"] == 2  # the running total follows: still two move-ins
    latest = platform.latest(DAILY_TOPIC)
    assert latest[day(f.REGION_A, "2026-04-10")]["sequence"] == 3  # 1, 2 (two move-ins), 3
    assert latest[day(f.REGION_A, "2026-04-01")]["sequence"] == 1


def test_a_late_move_in_changes_only_its_own_day() -> None:
    platform = platform_k1()
    for n, eff in enumerate(("2026-04-01", "2026-04-05", "2026-04-10"), start=1):
        platform.feed(REG, move_in(n, eff))
    late = move_in(9, "2026-04-03", recorded="2026-04-15")  # 届出 12 days after the 異動日
    emitted = platform.feed(REG, late)
    assert days(emitted) == {
        day(f.REGION_A, "2026-04-03"): (1, None),
        day(f.MUNI, "2026-04-03"): (1, None),
    }
    assert platform.latest("unified.region")[f.MUNI]["move_ins_total"] == 4


def test_an_address_correction_moves_the_move_in_to_the_right_region_on_the_same_day() -> None:
    platform = platform_k1()
    first = move_in(1, "2026-04-10")
    platform.feed(REG, first)
    fix = correction(
        key(1), "2026-04-10", 2, first["event_id"], f.at("2026-04-20"), address=f.ADDRESS_B
    )
    emitted = platform.feed(REG, fix)
    assert days(emitted) == {
        day(f.REGION_A, "2026-04-10"): (None, None),  # retracted: 0 is below k = 1
        day(f.REGION_B, "2026-04-10"): (1, None),
    }
    latest = platform.latest(DAILY_TOPIC)
    assert latest[day(f.REGION_A, "2026-04-10")]["suppressed"] == ["move_ins", "move_outs"]
    assert latest[day(f.MUNI, "2026-04-10")]["move_ins"] == 1  # same municipality: unchanged
    assert platform.latest("unified.region")[f.REGION_A]["move_ins_total"] is None  # 0 < k
    assert platform.latest("unified.region")[f.REGION_B]["move_ins_total"] == 1


def test_a_per_day_record_is_suppressed_below_k() -> None:
    platform = Platform()  # k = 10
    platform.feed(REG, move_in(1, "2026-04-10"))
    record = platform.latest(DAILY_TOPIC)[day(f.REGION_A, "2026-04-10")]
    assert record["move_ins"] is None and record["suppressed"] == ["move_ins", "move_outs"]
    assert record["day"] == dt.date(2026, 4, 10) and record["k_threshold"] == 10
