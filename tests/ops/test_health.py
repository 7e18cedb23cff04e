"""Health views and readiness on a real (not started) stage App; the started worker answering
200 is tested in tests/integration/test_operations.py."""

from __future__ import annotations

from pathlib import Path

from renkei.ops.health import LIVE_PATH, READY_PATH, readiness, stream_partitions
from renkei.runtime.app import create_app
from renkei.settings import Settings


def test_every_stage_app_serves_metrics_and_health(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path), "echo", web_port=7177, store="memory://")
    assert {"/metrics", LIVE_PATH, READY_PATH} <= set(app.web.views)
    assert app.metrics.stage == "echo"


def test_not_ready_before_recovery_nor_after_a_failure(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path), "echo", web_port=7177, store="memory://")
    assert stream_partitions(app) == set()
    assert readiness(app) == (False, "recovering tables from their changelogs")
    app.tables.recovery.completed.set()  # type: ignore[attr-defined]
    assert readiness(app) == (False, "no partitions assigned")
    app.fatal = RuntimeError("x")
    assert readiness(app) == (False, "stopping after a failure")
