"""Reference data as versioned releases, against the real broker and registry.

A standardize worker reads the ``ref.*`` topics to the end before it serves; a release published
with ``renkei ref load`` while it runs changes the standardization of the next record without a
restart; an old event is standardized with the codes in force on its date, and every record
carries today's successor code and names the release it used.

The second release adds a change that never happened (浜松市中央区 221384 retired on
2026-04-01 for a made-up code 221414): a test needs a change it can make while the worker runs.
"""

from __future__ import annotations

import asyncio
import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from renkei.contracts.stages import std_topic
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.conftest import AppliedSchemas, RunningStages
from tests.integration.independent_client import read_all

pytestmark = pytest.mark.kafka
REGISTRY = "registry.resident.events"
OWNER = "221309"  # 浜松市
RENKEI = str(Path(sys.executable).parent / "renkei")
TEST_CHANGE = (
    "effective_date,old_code,old_prefecture,old_name,new_code,new_prefecture,new_name,kind,source\n"
    "2026-04-01,221384,静岡県,浜松市中央区,221414,静岡県,浜松市中央区,ward_reorganisation,test\n"
)


def ref_load(applied: AppliedSchemas, *args: str) -> str:
    """``renkei ref load`` as a user runs it; the release name it published."""
    env = {**os.environ, **applied.env}
    result = subprocess.run(
        [RENKEI, "ref", "load", "--municipality", OWNER, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "manifest last" in result.stdout, result.stdout
    return result.stdout.split("published ", 1)[1].split(" ", 1)[0]


def moved_in(catalogue: Catalogue, n: int, effective: str, text: str, postal: str) -> Any:
    event = copy.deepcopy(catalogue.get(REGISTRY).examples["moved_in"])
    event["event_id"] = f"f34492fe-3a69-4b05-b3e4-58176300000{n}"
    event["resident_key"] = f"00000001234567{n}"
    event["municipality_code"] = OWNER
    event["effective_date"] = effective
    event["detail"]["address"] = {"postal_code": postal, "address_text": text, "building": None}
    return event


async def publish(settings: Settings, applied: AppliedSchemas, events: list[Any]) -> None:
    async with Publisher(settings, applied.prefixed_catalogue()) as publisher:
        for event in events:
            await publisher.publish(applied.topic(REGISTRY), event)


@pytest.mark.timeout(600)
def test_a_release_published_while_the_worker_runs_applies_to_the_next_record(
    live_stack: Settings,
    catalogue: Catalogue,
    applied_schemas: AppliedSchemas,
    running_stages: RunningStages,
    tmp_path: Path,
) -> None:
    settings = applied_schemas.settings
    first = ref_load(applied_schemas, "--note", "shipped data")
    worker = running_stages("standardize", env=applied_schemas.env)["standardize"]
    worker.wait_for(f"reference release {first} in force", timeout=240)

    old = moved_in(catalogue, 1, "2023-06-01", "静岡県浜松市中区元城町103番地の2", "4300946")
    split = moved_in(catalogue, 2, "2023-06-01", "浜松市北区細江町気賀1", "4311305")
    asyncio.run(publish(live_stack, applied_schemas, [old, split]))
    out = std_topic(REGISTRY)
    before = read_all(live_stack, applied_schemas.topic(out), 2, timeout=120)
    by_key = {v["key"]: v["value"] for v in before}
    old_std = by_key[old["resident_key"]]
    assert old_std["std_meta"]["reference_version"] == first
    address = old_std["detail"]["address"]
    # the code in force on 2023-06-01 (浜松市中区), today's successor (中央区)
    assert address["municipality_code"] == "221317"
    assert address["city"] == "浜松市中区"
    assert address["region_code"] == "221317:4300946"
    assert address["current_municipality_code"] == "221384"
    assert address["current_region_code"] == "221384:4300946"
    # 北区 was split: its 細江町 went to 浜名区
    split_address = by_key[split["resident_key"]]["detail"]["address"]
    assert split_address["municipality_code"] == "221350"
    assert split_address["current_municipality_code"] == "221392"

    changes = tmp_path / "changes.csv"
    changes.write_text(TEST_CHANGE, encoding="utf-8")
    second = ref_load(applied_schemas, "--changes", str(changes))
    assert second != first
    worker.wait_for(f"reference release {second} in force (was {first})", timeout=240)

    later = moved_in(catalogue, 3, "2026-06-01", "静岡県浜松市中央区元城町103-2", "4300946")
    again = copy.deepcopy(old)
    again["event_id"] = "f34492fe-3a69-4b05-b3e4-581763000004"
    again["resident_key"] = "000000012345674"
    asyncio.run(publish(live_stack, applied_schemas, [later, again]))
    after = read_all(live_stack, applied_schemas.topic(out), 4, timeout=120)
    by_key = {v["key"]: v["value"] for v in after}
    later_std = by_key[later["resident_key"]]
    assert later_std["std_meta"]["reference_version"] == second
    assert later_std["detail"]["address"]["municipality_code"] == "221414"
    assert later_std["detail"]["address"]["current_region_code"] == "221414:4300946"
    again_std = by_key[again["resident_key"]]
    assert again_std["std_meta"]["reference_version"] == second
    assert again_std["detail"]["address"]["municipality_code"] == "221317"  # still its date's
    assert again_std["detail"]["address"]["current_municipality_code"] == "221414"
    assert settings.topic_prefix == applied_schemas.prefix
    running_stages.assert_stopped_cleanly()
