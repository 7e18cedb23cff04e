"""A server launched a moment ago is alive even before its command line carries the markers.

Until the child's exec has completed, ``/proc/<pid>/cmdline`` is not the server's yet: the
parent's after a plain fork, empty for an instant during exec. The marker check would call the
starting server dead (issue 10 item 7: a restarted cluster node torn down as "no longer running
while starting"). These tests widen that window on purpose: the child is a Python process that
sleeps before it execs the marked stand-in server.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from renkei.errors import StackError
from renkei.stack import cluster as cluster_module
from renkei.stack.cluster import LocalCluster
from renkei.stack.java import JavaRuntime
from renkei.stack.kafka_config import cluster_nodes
from renkei.stack.processes import (
    PidRecord,
    is_alive,
    is_ours,
    launch_detached,
    process_args,
    stop_process,
    wait_until_ready,
)
from renkei.stack.reporting import no_progress
from renkei.stack.versions import KafkaVersion

EXEC_DELAY = 1.0
"""Seconds the child spends before its exec: ample for the checks made before it."""

# The stand-in server, once exec'd. "server up" is printed from pieces so that the command line
# in the log banner never matches.
SERVER = "import time\nprint('server' + ' up', flush=True)\ntime.sleep(60)\n"

# Before the exec: no marker among the arguments (they are assembled only for the exec).
DELAYED_EXEC = (
    "import os, sys, time\n"
    "delay, server, home, code = sys.argv[1:5]\n"
    "time.sleep(float(delay))\n"
    "markers = ['-Drenkei.' + 'stack=' + server, '-Drenkei.' + 'home=' + home]\n"
    "os.execv(sys.executable, [sys.executable, '-c', code, *markers])\n"
)


def delayed_command(server: str, home: Path, delay: float = EXEC_DELAY) -> list[str]:
    """A command that becomes a marked server only ``delay`` seconds after its launch."""
    return [sys.executable, "-c", DELAYED_EXEC, str(delay), server, str(home), SERVER]


def _wait_ready(ready: Callable[[], bool], record: PidRecord, process: Any) -> float:
    """``wait_until_ready`` of "kafka node 1" as the cluster calls it, polling fast."""
    return wait_until_ready(
        ready,
        what="kafka node 1",
        record=record,
        process=process,
        timeout=30,
        logs=[],
        progress=no_progress,
        interval=0.05,
    )


def _record(pid: int, home: Path, server: str = "kafka") -> PidRecord:
    return PidRecord(
        server=server,
        pid=pid,
        version="3.9.1",
        address="127.0.0.1:9092",
        home=str(home),
        log=str(home / "server.out"),
        started_at="2026-01-01T00:00:00+00:00",
    )


def _launch(tmp_path: Path, command: list[str]) -> tuple[subprocess.Popen[bytes], PidRecord]:
    process = launch_detached(command, cwd=tmp_path, log_path=tmp_path / "server.out")
    return process, _record(process.pid, tmp_path)


def _finish(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _first_command_line(pid: int, within: float) -> list[str] | None:
    """The first non-empty command line of ``pid`` read within ``within`` seconds."""
    deadline = time.monotonic() + within
    while (args := process_args(pid)) is None and time.monotonic() < deadline:
        time.sleep(0.005)
    return args


def test_the_command_line_of_a_child_not_yet_execd_lacks_the_markers(tmp_path: Path) -> None:
    process, record = _launch(tmp_path, delayed_command("kafka", tmp_path))
    try:
        # Right after Popen the launcher's own exec may still be under way (cmdline empty for
        # an instant): read it once that exec is done, well before the delayed one.
        args = _first_command_line(process.pid, within=EXEC_DELAY / 2)
        assert args is not None and not any(a.startswith("-Drenkei.") for a in args)
        assert not is_ours(record)  # the marker check alone calls it dead
        assert is_alive(record, process)  # its Popen knows better
        # Without the Popen (as the cluster waited before the fix): torn down at once.
        with pytest.raises(StackError, match="is no longer running while starting"):
            _wait_ready(lambda: False, record, None)
    finally:
        _finish(process)


def test_a_starting_server_is_waited_for_until_its_exec_and_readiness(tmp_path: Path) -> None:
    process, record = _launch(tmp_path, delayed_command("kafka", tmp_path))
    try:
        assert not is_ours(record)
        # ready once it runs as the marked server
        waited = _wait_ready(lambda: is_ours(record), record, process)
        assert waited >= EXEC_DELAY / 2
        assert process.poll() is None
    finally:
        _finish(process)


def test_a_child_that_really_exits_while_starting_is_reported_quickly(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.exit(5)"]
    process, record = _launch(tmp_path, command)
    started = time.monotonic()
    with pytest.raises(StackError, match="exited with code 5 while starting"):
        _wait_ready(lambda: False, record, process)
    assert time.monotonic() - started < 10


def test_a_server_stopped_before_its_exec_is_still_stopped(tmp_path: Path) -> None:
    process, record = _launch(tmp_path, delayed_command("kafka", tmp_path))
    try:
        assert stop_process(record, process=process, term_timeout=10) == "terminated"
        assert process.returncode is not None
        time.sleep(EXEC_DELAY + 0.2)
        assert "server up" not in (tmp_path / "server.out").read_text()
        assert stop_process(record, process=process) == "not running"
    finally:
        _finish(process)


def test_a_popen_of_another_pid_is_refused(tmp_path: Path) -> None:
    process, _ = _launch(tmp_path, delayed_command("kafka", tmp_path))
    try:
        with pytest.raises(ValueError, match="Popen of pid"):
            is_alive(_record(process.pid + 1, tmp_path), process)
    finally:
        _finish(process)


@pytest.fixture
def fake_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalCluster:
    """A one-node LocalCluster whose "broker" is the delayed stand-in, ready once exec'd."""
    home = tmp_path / "cluster"
    (home / "conf" / "node-1").mkdir(parents=True)  # what prepare() makes, minus the format

    def command(*_args: object, server: str, **_kwargs: object) -> list[str]:
        return delayed_command(server, home)

    launched = LocalCluster(
        home=home,
        version=KafkaVersion.parse("3.9.1"),
        nodes=cluster_nodes(39092, 1),
        java=JavaRuntime(Path(sys.executable), 17),
        libs=tmp_path / "libs",
    )

    def probe(*_args: object, **_kwargs: object) -> SimpleNamespace:
        # "Answers Metadata" once the node of this launch runs as the marked server.
        return SimpleNamespace(ready=is_ours(launched.records[1]))

    monkeypatch.setattr(cluster_module, "kafka_command", command)
    monkeypatch.setattr(cluster_module, "probe_kafka", probe)
    return launched


def test_a_restarted_cluster_node_is_not_torn_down_before_its_exec(
    fake_cluster: LocalCluster,
) -> None:
    try:
        waited = fake_cluster.start_node(1, timeout=30)
        assert waited >= EXEC_DELAY / 2
        record = fake_cluster.records[1]
        assert is_ours(record)
        fake_cluster.kill(1)  # a crash, as scenario c does to the partition leader
        assert process_args(record.pid) is None
        waited = fake_cluster.start_node(1, timeout=30)  # the restart that used to fail
        assert waited >= EXEC_DELAY / 2
    finally:
        processes = list(fake_cluster.processes.values())
        fake_cluster.stop(term_timeout=10)
        assert all(process.poll() is not None for process in processes)
        assert not fake_cluster.records and not fake_cluster.processes


def test_a_cluster_stopped_right_after_launch_leaves_no_node_behind(
    fake_cluster: LocalCluster,
) -> None:
    fake_cluster._launch(fake_cluster.node(1))
    [process] = fake_cluster.processes.values()
    fake_cluster.stop(term_timeout=10)
    assert process.poll() is not None
