"""Shared fixtures. Tests marked ``kafka`` need the real broker and registry of
``renkei stack up``: locally they are skipped when the stack is down; under CI they fail."""

from __future__ import annotations

import os
import socket
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from renkei.schemas.catalogue import Catalogue, TopicSpec, load_catalogue
from renkei.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(REPO / "schemas" / "avro")


def _kafka_answers(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def _registry_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/subjects", timeout=3) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def live_stack(settings: Settings) -> Settings:
    """The settings of a running stack; fails under CI, skips locally, when it is not up."""
    missing = [
        name
        for name, up in (
            (f"Kafka at {settings.kafka_bootstrap}", _kafka_answers(settings.kafka_bootstrap)),
            (
                f"registry at {settings.schema_registry_url}",
                _registry_answers(settings.schema_registry_url),
            ),
        )
        if not up
    ]
    if missing:
        message = f"{' and '.join(missing)} not reachable: run `renkei stack up` first"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return settings


@pytest.fixture(autouse=True)
def _needs_stack(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("kafka"):
        request.getfixturevalue("live_stack")


@pytest.fixture
def isolated_catalogue(catalogue: Catalogue) -> Catalogue:
    """The catalogue with every topic renamed to a unique test topic (own subjects, own data)."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    topics: dict[str, TopicSpec] = {}
    for spec in catalogue:
        name = f"{prefix}.{spec.topic}"
        topics[name] = replace(spec, topic=name, metadata={**spec.metadata, "topic": name})
    return Catalogue(root=catalogue.root, topics=topics)


@pytest.fixture
def isolated_schemas_dir(tmp_path: Path, catalogue: Catalogue) -> tuple[Path, str]:
    """A copy of schemas/avro/ with uniquely renamed topic folders, for CLI tests.

    Returns (folder, prefix); topic ``X`` is ``<prefix>.X`` there.
    """
    import shutil

    import yaml

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    root = tmp_path / "avro"
    for spec in catalogue:
        target = root / f"{prefix}.{spec.topic}"
        shutil.copytree(spec.folder, target)
        meta = yaml.safe_load((target / "topic.yaml").read_text(encoding="utf-8"))
        meta["topic"] = target.name
        (target / "topic.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), "utf-8")
    return root, prefix
