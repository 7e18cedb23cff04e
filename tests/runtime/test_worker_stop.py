"""A worker always ends: a stop watchdog, and a second signal exits at once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from renkei.settings import Settings
from tests.runtime.kafka_helpers import WorkerProcess, create_echo_topics

WATCHDOG = """
import time
from renkei.runtime.app import create_app
from renkei.settings import Settings
app = create_app(Settings(home={home!r}), "echo", web_port=6199, store="memory://")
app.arm_stop_watchdog(0.5)
time.sleep(30)  # a stop that hangs
"""


@pytest.mark.timeout(60)
def test_the_stop_watchdog_exits_a_hung_process(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", WATCHDOG.format(home=str(tmp_path))],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 20
    assert "did not stop within 0.5s: exiting now" in result.stderr


@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_a_second_signal_exits_at_once(live_stack: Settings, tmp_path: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:10]}."
    asyncio.run(create_echo_topics(live_stack, prefix))
    worker = WorkerProcess(
        "tests.runtime.echo_stage:build_echo",
        tmp_path / "worker.log",
        {"RENKEI_TOPIC_PREFIX": prefix},
    )
    worker.wait_for("partitions assigned")
    worker.process.send_signal(signal.SIGTERM)
    time.sleep(0.2)  # the first stop is under way (it takes about a second)
    code = worker.stop(signal.SIGTERM)
    output = worker.output()
    assert code == 1, output
    assert "second SIGTERM: exiting now" in output
