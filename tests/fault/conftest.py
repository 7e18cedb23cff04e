"""Fixtures of the fault-injection suite (``pytest -m fault``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from tests.fault import pipeline


@pytest.fixture(scope="session")
def clean_outcome(
    live_stack: Settings, catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory
) -> pipeline.Outcome:
    """One clean run of the pipeline load, shared by the scenarios that compare with it."""
    folder: Path = tmp_path_factory.mktemp("clean")
    return pipeline.clean_run(live_stack, catalogue, folder)
