"""Pid files and stopping: only a process carrying the stack's markers is ever signalled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from renkei.errors import StackError
from renkei.stack.processes import (
    PidRecord,
    is_ours,
    launch_detached,
    live_record,
    marker_args,
    process_args,
    read_pid_record,
    stop_process,
    wait_until_ready,
    write_pid_record,
)
from renkei.stack.reporting import no_progress

# "sleeper up" is printed from pieces so that the command line in the log banner never matches.
SLEEPER = "import signal, time\n{setup}\nprint('sleeper' + ' up', flush=True)\ntime.sleep(60)\n"


def _record(pid: int, home: Path, server: str = "kafka") -> PidRecord:
    return PidRecord(
        server=server,
        pid=pid,
        version="3.9.1",
        address="127.0.0.1:9092",
        home=str(home),
        log=str(home / "logs" / "kafka.log"),
        started_at="2026-01-01T00:00:00+00:00",
    )


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A detached stand-in for a server: Python sleeping, with the stack's marker arguments."""
    code = SLEEPER.format(setup="")
    process = launch_detached(
        [sys.executable, "-c", code, *marker_args("kafka", tmp_path)],
        cwd=tmp_path,
        log_path=tmp_path / "logs" / "sleeper.out",
    )
    # Until its exec completes the child's command line is still this process's (no markers):
    # wait for it to run the sleeper's code, as a pid read back from a pid file would be.
    log = tmp_path / "logs" / "sleeper.out"
    deadline = time.monotonic() + 30
    while "sleeper up" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_pid_record_round_trips(tmp_path: Path) -> None:
    record = _record(1234, tmp_path)
    write_pid_record(tmp_path / "run" / "kafka.json", record)
    assert read_pid_record(tmp_path / "run" / "kafka.json") == record


@pytest.mark.parametrize("content", ["", "{not json", '{"pid": 1}', "[]"])
def test_unreadable_pid_files_count_as_absent(tmp_path: Path, content: str) -> None:
    path = tmp_path / "kafka.json"
    path.write_text(content)
    assert read_pid_record(path) is None
    assert live_record(path) is None


def test_detached_server_runs_in_its_own_session_and_logs_to_file(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    assert os.getsid(sleeper.pid) == sleeper.pid != os.getsid(0)
    log = tmp_path / "logs" / "sleeper.out"
    deadline = time.monotonic() + 10
    while "sleeper up" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    assert "renkei stack starts:" in text and "sleeper up" in text


def test_a_recycled_pid_is_not_ours_and_is_never_signalled(tmp_path: Path) -> None:
    # This very test process: alive, but without the markers (like a recycled pid).
    record = _record(os.getpid(), tmp_path)
    assert not is_ours(record)
    assert stop_process(record, term_timeout=0.5) == "not running"


def test_markers_of_another_home_do_not_match(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    assert is_ours(_record(sleeper.pid, tmp_path))
    assert not is_ours(_record(sleeper.pid, tmp_path / "other-home"))
    assert not is_ours(_record(sleeper.pid, tmp_path, server="registry"))


def test_stop_terminates_with_sigterm(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    record = _record(sleeper.pid, tmp_path)
    assert stop_process(record, term_timeout=10) == "terminated"
    assert process_args(sleeper.pid) is None  # gone, and reaped rather than left a zombie


def test_stop_kills_a_server_that_ignores_sigterm(tmp_path: Path) -> None:
    code = SLEEPER.format(setup="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    log = tmp_path / "stubborn.out"
    process = launch_detached(
        [sys.executable, "-c", code, *marker_args("kafka", tmp_path)], cwd=tmp_path, log_path=log
    )
    try:
        deadline = time.monotonic() + 10
        while "sleeper up" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)  # the handler is installed before the line is printed
        assert stop_process(_record(process.pid, tmp_path), term_timeout=1) == "killed"
        assert process_args(process.pid) is None
    finally:
        if process.poll() is None:
            process.kill()


def test_a_server_dying_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "kafka.out"
    process = launch_detached(
        [sys.executable, "-c", "import sys; print('ERROR boom: port in use'); sys.exit(3)"],
        cwd=tmp_path,
        log_path=log,
    )
    with pytest.raises(StackError) as caught:
        wait_until_ready(
            lambda: False,
            what="kafka 3.9.1",
            record=_record(process.pid, tmp_path),
            process=process,
            timeout=30,
            logs=[log],
            progress=no_progress,
        )
    message = str(caught.value)
    assert "exited with code 3" in message
    assert str(log) in message and "ERROR boom: port in use" in message


def test_a_server_that_never_answers_times_out_naming_the_log(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    lines: list[str] = []
    with pytest.raises(StackError, match=r"did not answer on 127\.0\.0\.1:9092 within 1 s"):
        wait_until_ready(
            lambda: False,
            what="kafka 3.9.1",
            record=_record(sleeper.pid, tmp_path),
            process=sleeper,
            timeout=1.2,
            logs=[tmp_path / "logs" / "sleeper.out"],
            progress=lines.append,
            interval=0.1,
            remind_every=0.5,
        )
    assert any("still starting" in line for line in lines)
