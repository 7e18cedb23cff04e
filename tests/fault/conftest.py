"""Fixtures of the fault-injection suite (``pytest -m fault``).

Scenarios marked ``fault_full`` (the private cluster, the private registry, the rebalance)
run only with ``RENKEI_FAULT_FULL=1`` (``make fault``): the plain test command keeps a fast
subset, so CI stays short. They are deselected, not skipped: a run that wants them sets the
variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.fault import harness as h
from tests.fault import pipeline


@pytest.fixture(scope="session")
def clean_outcome(
    live_stack: Settings, catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[pipeline.Outcome]:
    """One clean run of the pipeline load, shared by the scenarios that compare with it."""
    folder: Path = tmp_path_factory.mktemp("clean")
    outcome = pipeline.clean_run(live_stack, catalogue, folder)
    yield outcome
    h.cleanup(live_stack, outcome.prefix)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RENKEI_FAULT_FULL") == "1":
        return
    full = [item for item in items if item.get_closest_marker("fault_full")]
    if full:
        config.hook.pytest_deselected(items=full)
        items[:] = [item for item in items if not item.get_closest_marker("fault_full")]
