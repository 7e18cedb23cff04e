"""Detached server processes, their pid files, and stopping only what the stack started.

Every server is launched with two marker arguments (``-Drenkei.stack=<server>`` and
``-Drenkei.home=<home>``). A pid file alone could name a recycled pid; ``renkei stack down``
signals a process only when its command line still carries both markers.

The markers identify a pid read back from a pid file. They cannot judge the child this very
process has just launched: until its ``exec`` has completed, the child's command line is not
yet the server's (still the parent's after a plain fork, and empty for an instant while the
kernel sets up the new program even after a vfork). For our own child the Popen decides
instead: its pid cannot be recycled before we reap it, and ``poll()`` tells whether it exited
(see :func:`is_alive`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from renkei.errors import StackError
from renkei.stack.reporting import BANNER, Progress, with_excerpt

StopOutcome = Literal["terminated", "killed", "not running"]


def marker_args(server: str, home: Path) -> list[str]:
    """JVM system properties that identify a process as ``server`` of the stack at ``home``."""
    return [f"-Drenkei.stack={server}", f"-Drenkei.home={home}"]


@dataclass(frozen=True)
class PidRecord:
    """What ``run/<server>.json`` holds about a process the stack started."""

    server: str
    pid: int
    version: str
    address: str
    home: str
    log: str
    started_at: str

    @property
    def markers(self) -> list[str]:
        return marker_args(self.server, Path(self.home))


def write_pid_record(path: Path, record: PidRecord) -> None:
    """Write atomically so a concurrent ``status`` never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def read_pid_record(path: Path) -> PidRecord | None:
    """The record in ``path``, or None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return PidRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def process_args(pid: int) -> list[str] | None:
    """The command line of a live (non-zombie, not exiting) process, or None."""
    proc = Path("/proc") / str(pid)
    if proc.is_dir():
        try:
            stat = (proc / "stat").read_text()
            # Field 3, after the parenthesised command name, is the state; Z = zombie.
            if stat.rpartition(")")[2].split()[0] in {"Z", "X"}:
                return None
            raw = (proc / "cmdline").read_bytes()
        except OSError:
            return None
        # Empty while the process is exiting, for an instant during exec, and for kernel
        # threads: nothing to match.
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part] or None
    done = subprocess.run(
        ["ps", "-o", "stat=,command=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    fields = done.stdout.strip().split(None, 1)
    if done.returncode != 0 or len(fields) < 2 or fields[0].startswith("Z"):
        return None
    return shlex.split(fields[1])


def is_ours(record: PidRecord) -> bool:
    """True when ``record.pid`` is alive and still the process the stack started.

    For a pid read back from a pid file. A child launched by this process may not carry the
    markers yet (its exec is not complete); judge it with :func:`is_alive` and its Popen.
    """
    args = process_args(record.pid)
    if args is None:
        return False
    # JVMs carry ``-Drenkei.stack=…``; PostgreSQL the same as custom settings ``--renkei.stack=…``
    return all(
        marker in args or "--" + marker.removeprefix("-D") in args for marker in record.markers
    )


def is_alive(record: PidRecord, process: subprocess.Popen[bytes] | None) -> bool:
    """Whether the server of ``record`` still runs.

    ``process`` is the Popen when this process launched the server: then its exit status
    decides, whatever the command line shows while the child is still exec'ing (an unreaped
    child's pid is never recycled). Without it (a pid from a pid file), the marker check.
    """
    if process is None:
        return is_ours(record)
    if process.pid != record.pid:
        raise ValueError(f"Popen of pid {process.pid} given for the record of pid {record.pid}")
    return process.poll() is None


def live_record(path: Path) -> PidRecord | None:
    """The record in ``path`` if its process is still running, else None."""
    record = read_pid_record(path)
    return record if record is not None and is_ours(record) else None


def launch_detached(
    command: list[str], *, cwd: Path, log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to ``log_path``.

    The new session keeps the server alive when the CLI exits or its terminal closes.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"\n{BANNER}{stamp} renkei stack starts: {shlex.join(command)}\n".encode())
        log.flush()
        try:
            return subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"could not start {command[0]}: {exc}") from exc


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(record: PidRecord, process: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is None:
            _reap(record.pid)  # a Popen reaps its own child in poll()
        if not is_alive(record, process):
            return True
        time.sleep(0.2)
    return False


def _signal(record: PidRecord, process: subprocess.Popen[bytes] | None, signum: int) -> None:
    if process is not None:
        process.send_signal(signum)  # a no-op once the child is reaped
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signum)


def stop_process(
    record: PidRecord,
    *,
    process: subprocess.Popen[bytes] | None = None,
    term_timeout: float = 30.0,
    kill_timeout: float = 10.0,
) -> StopOutcome:
    """SIGTERM the recorded process, SIGKILL it if still alive after ``term_timeout``.

    ``process`` is the Popen when this process launched the server (see :func:`is_alive`):
    then a server stopped right after its launch, before its exec completed, is still stopped.
    """
    if not is_alive(record, process):
        return "not running"
    _signal(record, process, signal.SIGTERM)
    if _wait_gone(record, process, term_timeout):
        return "terminated"
    _signal(record, process, signal.SIGKILL)
    if _wait_gone(record, process, kill_timeout):
        return "killed"
    raise StackError(f"{record.server} (pid {record.pid}) survived SIGKILL for {kill_timeout} s")


@contextlib.contextmanager
def stack_lock(
    path: Path, *, progress: Progress | None = None, timeout: float = 900.0
) -> Iterator[None]:
    """Serialise ``up`` and ``down`` of one stack home: a second ``up`` waits for the first
    (then finds the servers running) instead of starting a second broker."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if progress is not None:
                    progress("waiting for another `renkei stack` command to finish…")
                    progress = None
                if time.monotonic() > deadline:
                    raise StackError(
                        f"another `renkei stack` command has held {path} for {timeout:.0f} s"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_server(
    *,
    server: str,
    version: str,
    address: str,
    command: list[str],
    cwd: Path,
    out_log: Path,
    server_log: Path,
    pid_file: Path,
    home: Path,
    ready: Callable[[], bool],
    logs: Sequence[Path],
    progress: Progress,
    timeout: float,
    env: dict[str, str] | None = None,
) -> tuple[PidRecord, float]:
    """Launch a server detached, record its pid, wait until ``ready``; (record, seconds)."""
    process = launch_detached(command, cwd=cwd, log_path=out_log, env=env)
    record = PidRecord(
        server=server,
        pid=process.pid,
        version=version,
        address=address,
        home=str(home),
        log=str(server_log),
        started_at=now_iso(),
    )
    write_pid_record(pid_file, record)
    waited = wait_until_ready(
        ready,
        what=f"{server} {version}",
        record=record,
        process=process,
        timeout=timeout,
        logs=logs,
        progress=progress,
    )
    return record, waited


def wait_until_ready(
    check: Callable[[], bool],
    *,
    what: str,
    record: PidRecord,
    process: subprocess.Popen[bytes] | None,
    timeout: float,
    logs: Sequence[Path],
    progress: Progress,
    interval: float = 0.5,
    remind_every: float = 10.0,
) -> float:
    """Poll ``check`` until it is true; seconds waited. StackError if the server dies or is late.

    ``process`` is the Popen when this process launched the server: its exit status then
    decides liveness (:func:`is_alive`), since the command line of a child still exec'ing does
    not carry the markers yet. Otherwise (a server of an earlier run) the pid record's markers.
    """
    started = time.monotonic()
    next_reminder = started + remind_every
    while True:
        if check():
            return time.monotonic() - started
        if not is_alive(record, process):
            code = process.returncode if process is not None else None
            status = f"exited with code {code}" if code is not None else "is no longer running"
            raise StackError(with_excerpt(f"{what} {status} while starting", *logs))
        now = time.monotonic()
        if now - started > timeout:
            raise StackError(
                with_excerpt(
                    f"{what} did not answer on {record.address} within {timeout:.0f} s; it is "
                    f"still running (pid {record.pid}); `renkei stack down` stops it",
                    *logs,
                )
            )
        if now >= next_reminder:
            progress(f"{what}: still starting ({now - started:.0f} s)…")
            next_reminder = now + remind_every
        time.sleep(interval)
