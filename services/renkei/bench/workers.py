"""Stage workers as subprocesses for the benchmarks: start, stop, resident memory.

Each bench run has its own topic prefix and RENKEI_HOME (so its own consumer groups and RocksDB
directories). ``python`` runs the workers with another interpreter — another checkout's venv,
so other code and other dependencies — for a before/after comparison in the same time window;
the bench itself always runs this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class WorkerPool:
    """The workers of one bench run (prefix ``prefix``), logs and homes under ``log_dir``."""

    prefix: str
    log_dir: Path
    web_port_base: int
    python: Path | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.log_dir / f"home-{self.prefix.strip('.')}"

    def datadir(self, stage: str) -> Path:
        """Where the stage keeps its RocksDB tables (settings.home/workers/<app id>)."""
        return self.home / "workers" / f"{self.prefix}renkei-{stage}"

    def start(self, stage: str, port_offset: int) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "RENKEI_TOPIC_PREFIX": self.prefix, "RENKEI_HOME": str(self.home)}
        command = [str(self.python or sys.executable), "-m", "renkei.cli.worker_cmd", stage]
        command += ["--web-port", str(self.web_port_base + port_offset), "--log-level", "warning"]
        with (self.log_dir / f"bench-{self.prefix.strip('.')}-{stage}.log").open("ab") as log:
            self.procs[stage] = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def start_all(self, stages: list[str] | tuple[str, ...]) -> None:
        for offset, stage in enumerate(stages):
            self.start(stage, offset)

    def check_alive(self) -> None:
        """Raise when a worker exited (its log says why)."""
        for stage, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"bench worker {stage} exited with code {proc.returncode}; see "
                    f"{self.log_dir}/bench-{self.prefix.strip('.')}-{stage}.log"
                )

    def rss_mb(self, stage: str) -> tuple[float, float]:
        """(current, peak) resident set size of a worker in MiB, from /proc."""
        return rss_of(self.procs[stage].pid)

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the running workers used so far (robust to the load
        other processes put on the machine, unlike wall-clock rates)."""
        return sum(self.cpu_by_stage().values())

    def cpu_by_stage(self) -> dict[str, float]:
        return {stage: cpu_of(proc.pid) for stage, proc in self.procs.items()}

    def stop(self, stage: str, timeout: float = 60.0) -> None:
        proc = self.procs.pop(stage)
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        """SIGTERM to every worker at once, then wait for each (killed after a minute)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for stage in list(self.procs):
            self.stop(stage)

    def remove_home(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


def rss_of(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MiB; zeros when /proc has no such process."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in values:
                values[name] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """utime + stime of ``pid`` in seconds; 0 when /proc has no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
