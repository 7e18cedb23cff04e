"""A new department topic flows to ``std.<topic>`` with no product file changed: a throwaway
catalogue with one more department topic (and its std twin), a step the test gives the stage,
and everything else — the stage's inputs and outputs, its DLQ, ``renkei status``, the k8s
topics — follows from the catalogue (docs/design/adding-a-department.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from renkei.contracts.stages import STAGES
from renkei.deploy.k8s_topics import plan
from renkei.errors import ConfigurationError
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings
from renkei.stages.standardize.stage import build_standardize
from tests.conftest import RunningStages, apply_schemas
from tests.integration.independent_client import read_all
from tests.runtime.fake_registry import FakeRegistry
from tests.stages.standardize import new_department as dept

STD = f"std.{dept.TOPIC}"


@pytest.fixture
def schemas_dir(tmp_path: Path) -> Path:
    return dept.write_catalogue(tmp_path)


def test_the_catalogue_makes_it_a_standardize_input_with_its_std_output(
    schemas_dir: Path, tmp_path: Path
) -> None:
    catalogue = load_catalogue(schemas_dir)
    spec = STAGES["standardize"]
    assert dept.TOPIC in spec.contract_inputs(catalogue)
    assert STD in spec.contract_outputs(catalogue)
    settings = Settings(home=tmp_path, schemas_dir=schemas_dir)
    app = build_standardize(
        settings, steps=dept.STEPS, registry=FakeRegistry().client(), send=_no_send
    )
    assert f"standardize.{dept.TOPIC}" in app.agents
    assert STD in {s.topic for s in app.builder.outputs}
    planned = {t.name: t for t in plan(settings)}  # deploy/k8s topics come along
    assert planned[f"dlq.{dept.TOPIC}"].kind == "dlq"
    assert planned[STD].partitions == 6


def test_a_department_topic_without_a_step_is_refused_at_build(
    schemas_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, schemas_dir=schemas_dir)
    with pytest.raises(ConfigurationError, match=f"{dept.TOPIC} have no standardization step"):
        build_standardize(settings, registry=FakeRegistry().client(), send=_no_send)


def test_a_department_topic_without_its_std_twin_is_refused(
    schemas_dir: Path, tmp_path: Path
) -> None:
    import shutil

    shutil.rmtree(schemas_dir / STD)
    settings = Settings(home=tmp_path, schemas_dir=schemas_dir)
    with pytest.raises(ConfigurationError, match=f"unknown topic '{STD}'"):
        build_standardize(settings, steps=dept.STEPS, registry=FakeRegistry().client())


async def _no_send(*args: object) -> None:
    raise AssertionError("nothing is sent in these tests")


@pytest.mark.kafka
@pytest.mark.timeout(300)
def test_a_new_department_topic_flows_to_its_std_topic(
    live_stack: Settings, schemas_dir: Path, running_stages: RunningStages
) -> None:
    applied = apply_schemas(live_stack, load_catalogue(schemas_dir), "dept")
    heisei = {**dept.EXAMPLE, "resident_key": "000000000000902", "enrolled_on": "平成30年4月6日"}
    bad_grade = {**dept.EXAMPLE, "resident_key": "000000000000903", "grade": 12}
    no_such_year = {
        **dept.EXAMPLE,
        "resident_key": "000000000000904",
        "enrolled_on": "平成40年4月6日",
    }

    async def publish() -> None:
        async with Publisher(applied.settings, applied.prefixed_catalogue()) as publisher:
            for value in (dept.EXAMPLE, heisei, bad_grade, no_such_year):
                await publisher.publish(applied.topic(dept.TOPIC), value)

    asyncio.run(publish())
    env = {**applied.env, "RENKEI_SCHEMAS_DIR": str(schemas_dir)}
    running_stages(f"{dept.__name__}:build", env=env)
    records = read_all(applied.settings, applied.topic(STD), 2, timeout=120)
    by_key = {r["key"]: r["value"] for r in records}
    first = by_key[dept.EXAMPLE["resident_key"]]
    assert first["enrolled_on"] == dt.date(2026, 4, 6)  # 令和8年 → 2026
    assert first["std_meta"]["corrected_fields"] == ["enrolled_on"]
    assert first["school_code"] == "B101210000010"
    assert by_key["000000000000902"]["enrolled_on"] == dt.date(2018, 4, 6)  # 平成30 = 2018
    # bad records of the new topic go to its own DLQ, like any department's (平成 ended in 31)
    dead = read_all(applied.settings, f"{applied.prefix}dlq.{dept.TOPIC}", 2, timeout=60)
    assert sorted(r["key"] for r in dead) == ["000000000000903", "000000000000904"]
    running_stages.assert_stopped_cleanly()
