"""Shared fixtures. Tests marked ``kafka`` need the real broker and registry of
``renkei stack up``: locally they are skipped when the stack is down; under CI they fail."""

from __future__ import annotations

import asyncio
import os
import socket
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
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


def _cleanup_enabled() -> bool:
    """Delete what a test created on the shared broker: on under CI (tests run one at a time
    there), or with RENKEI_TEST_CLEANUP=1. Off by default locally, where other test runs may
    create topics at the same time. Why: every test has its own topics, and a broker holds a
    file open per partition; a full run would otherwise come near the open-files limit."""
    return bool(os.environ.get("CI") or os.environ.get("RENKEI_TEST_CLEANUP"))


def _list_topics(bootstrap: str) -> set[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    async def listing() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    return asyncio.run(listing())


def _delete_topics(bootstrap: str, topics: set[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    async def deleting() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            names = sorted(topics)
            for start in range(0, len(names), 100):
                await admin.delete_topics(names[start : start + 100], timeout_ms=30_000)
        finally:
            await admin.close()

    asyncio.run(deleting())


def _kept(topic: str, catalogue: Catalogue) -> bool:
    """Contract topics (and their DLQs) and internal ones are never deleted by a test run."""
    contract = topic.removeprefix("dlq.")
    return topic.startswith("_") or contract in catalogue.topics or topic == "audit.access"


@pytest.fixture(autouse=True)
def _needs_stack(request: pytest.FixtureRequest) -> Iterator[None]:
    if not request.node.get_closest_marker("kafka"):
        yield
        return
    settings: Settings = request.getfixturevalue("live_stack")
    if not _cleanup_enabled():
        yield
        return
    before = _list_topics(settings.kafka_bootstrap)
    yield
    catalogue: Catalogue = request.getfixturevalue("catalogue")
    try:
        created = _list_topics(settings.kafka_bootstrap) - before
        _delete_topics(settings.kafka_bootstrap, {t for t in created if not _kept(t, catalogue)})
    except Exception as exc:  # cleanup must not turn a passing test into an error
        warnings.warn(f"could not delete the test's topics: {exc!r}", stacklevel=1)


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
