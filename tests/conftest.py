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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

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
    catalogue: Catalogue = request.getfixturevalue("catalogue")
    before = _list_topics(settings.kafka_bootstrap)
    yield
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
        if spec.bulk_of is not None:
            continue  # a bulk twin is made from its live topic's folder, not a folder of its own
        target = root / f"{prefix}.{spec.topic}"
        shutil.copytree(spec.folder, target)
        meta = yaml.safe_load((target / "topic.yaml").read_text(encoding="utf-8"))
        meta["topic"] = target.name
        (target / "topic.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), "utf-8")
    return root, prefix


@dataclass(frozen=True)
class AppliedSchemas:
    """The catalogue applied under a test's own prefix: every topic created and every subject
    registered as ``<prefix><topic>`` (what ``renkei schemas apply`` does), so the test has its
    own topics, subjects and consumer groups on the shared broker."""

    settings: Settings
    """The live settings with ``topic_prefix`` set to :attr:`prefix`."""
    catalogue: Catalogue
    prefix: str

    def topic(self, contract_topic: str) -> str:
        return f"{self.prefix}{contract_topic}"

    @property
    def env(self) -> dict[str, str]:
        """What a worker subprocess needs to use these topics."""
        return {"RENKEI_TOPIC_PREFIX": self.prefix}

    def prefixed_catalogue(self) -> Catalogue:
        """The catalogue under the Kafka names (``<prefix><topic>``), for a Publisher."""
        from renkei.schemas.catalogue import renamed

        topics = {self.topic(s.topic): renamed(s, self.topic(s.topic)) for s in self.catalogue}
        return Catalogue(root=self.catalogue.root, topics=topics)


def apply_schemas(settings: Settings, catalogue: Catalogue, name: str = "t") -> AppliedSchemas:
    """Apply ``catalogue`` under a fresh prefix ``<name>-<random>.``."""
    from renkei.bench.stages import prepare_prefixed

    prefix = f"{name}-{uuid.uuid4().hex[:8]}."
    asyncio.run(prepare_prefixed(settings, catalogue, prefix))
    return AppliedSchemas(settings.model_copy(update={"topic_prefix": prefix}), catalogue, prefix)


@pytest.fixture
def applied_schemas(live_stack: Settings, catalogue: Catalogue) -> AppliedSchemas:
    """The repository's catalogue applied under this test's own prefix (needs the stack)."""
    return apply_schemas(live_stack, catalogue)


class RunningStages:
    """Stage workers started by a test (``renkei worker <stage>`` subprocesses), stopped at
    teardown; :meth:`stop` stops them earlier and says whether each exited cleanly."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self.workers: dict[str, Any] = {}

    def __call__(
        self,
        *stages: str,
        env: dict[str, str] | None = None,
        run: str = "run",
        web_port_base: int | None = None,
    ) -> dict[str, Any]:
        """Start ``stages`` (names or ``module:function``) with ``env``; the workers of one
        ``run`` share a RENKEI_HOME (their tables' local state). ``web_port_base``: stage n
        listens on base + n (default: free ports)."""
        from tests.runtime.kafka_helpers import WorkerProcess

        env = {"RENKEI_HOME": str(self._tmp_path / run), **(env or {})}
        started = {}
        for n, stage in enumerate(stages):
            name = stage.rpartition(":")[2] or stage
            log = self._tmp_path / f"{run}-{name}.log"
            port = None if web_port_base is None else web_port_base + n
            started[stage] = WorkerProcess(stage, log, env, web_port=port)
            self.workers[f"{run}:{stage}"] = started[stage]
        return started

    def stop(self, workers: dict[str, Any] | None = None) -> dict[str, int]:
        """SIGTERM ``workers`` (default: all still running); their exit codes."""
        chosen = workers if workers is not None else dict(self.workers)
        codes = {name: worker.stop() for name, worker in chosen.items()}
        for key, worker in list(self.workers.items()):
            if worker in chosen.values():
                del self.workers[key]
        return codes

    def assert_stopped_cleanly(self, workers: dict[str, Any] | None = None) -> None:
        chosen = workers if workers is not None else dict(self.workers)
        codes = self.stop(chosen)
        failed = {name: code for name, code in codes.items() if code != 0}
        assert not failed, "\n".join(
            f"{name} exited {code}:\n{chosen[name].output()[-3000:]}"
            for name, code in failed.items()
        )


@pytest.fixture
def running_stages(tmp_path: Path) -> Iterator[RunningStages]:
    """``running_stages("resident", "region", env=applied.env)`` starts stage workers; every
    one still running is stopped when the test ends."""
    stages = RunningStages(tmp_path)
    try:
        yield stages
    finally:
        stages.stop()
