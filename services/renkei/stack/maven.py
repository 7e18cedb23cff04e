"""Running Maven to fetch the servers, with a compact progress indicator.

Maven runs in batch mode (``-B``: no colours, no per-chunk progress bars), so it logs one
``Downloading from``/``Downloaded from`` line per file. Its whole output goes to a log file;
the caller sees a line every few seconds ("downloading… 23 files, 41.2 MB") computed from those
lines plus the growth of the file being downloaded in the local repository (the Apicurio
assembly is one 160 MB file).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from renkei.errors import StackError
from renkei.stack.reporting import Progress, format_bytes, strip_ansi

_DOWNLOADING = re.compile(r"Downloading from [^:]+: (\S+)")
_DOWNLOADED = re.compile(r"Downloaded from [^:]+: (\S+) \(([\d.]+) (B|kB|MB|GB)")
_UNITS = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3}
_REPO_LOCAL = re.compile(r"-Dmaven\.repo\.local=(\S+)")
_NOT_FOUND = re.compile(r"Could not (find artifact|resolve dependencies|transfer artifact)")


def find_mvn() -> str:
    """The ``mvn`` executable, or a StackError that says to install Maven."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "Maven (`mvn`) is not on PATH; the local stack fetches Kafka and Apicurio Registry "
            "from Maven Central with it. Install Maven 3.8+ (e.g. `apt-get install maven`) "
            "and run again."
        )
    return mvn


def project_pom(name: str) -> Path:
    """``deploy/maven/<name>/pom.xml`` of the checkout this package runs from (or the cwd's)."""
    relative = Path("deploy") / "maven" / name / "pom.xml"
    for folder in [*Path(__file__).resolve().parents, Path.cwd()]:
        if (folder / relative).is_file():
            return folder / relative
    raise StackError(f"{relative} not found: run `renkei stack` from a Renkei checkout")


def staged_pom(name: str, build_dir: Path) -> Path:
    """Copy the project's pom into ``build_dir`` and return the copy.

    Running Maven on a copy keeps its ``target/`` (and the dependency plugin's unpack markers,
    which would otherwise skip a re-unpack into a deleted folder) under the stack home, out of
    the source tree.
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    copy = build_dir / "pom.xml"
    shutil.copyfile(project_pom(name), copy)
    return copy


def local_repository() -> Path:
    """Maven's local repository (``-Dmaven.repo.local`` in MAVEN_OPTS, else ~/.m2/repository)."""
    match = _REPO_LOCAL.search(os.environ.get("MAVEN_OPTS", ""))
    return Path(match.group(1)) if match else Path.home() / ".m2" / "repository"


def _folder_size(folder: Path) -> int:
    try:
        return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())
    except OSError:
        return 0


@dataclass
class DownloadTally:
    """What Maven has downloaded so far, from its log lines and the local repository."""

    repository: Path
    files: int = 0
    bytes_done: float = 0.0
    in_flight: dict[str, tuple[Path, int]] = field(default_factory=dict)

    def feed(self, line: str) -> None:
        """Account for one line of Maven output."""
        done = _DOWNLOADED.search(line)
        if done:
            url, amount, unit = done.groups()
            self.in_flight.pop(url, None)
            self.files += 1
            self.bytes_done += float(amount) * _UNITS[unit]
            return
        started = _DOWNLOADING.search(line)
        if started:
            url = started.group(1)
            folder = self._local_folder(url)
            if folder is not None:
                self.in_flight[url] = (folder, _folder_size(folder))

    def _local_folder(self, url: str) -> Path | None:
        # Central's layout under .../maven2/ mirrors the local repository's.
        _, marker, relative = url.partition("/maven2/")
        return (self.repository / relative).parent if marker else None

    def total_bytes(self) -> float:
        """Finished downloads plus what the files in flight have grown by."""
        partial = sum(
            max(0, _folder_size(folder) - baseline) for folder, baseline in self.in_flight.values()
        )
        return self.bytes_done + partial

    def summary(self) -> str:
        return f"{self.files} files, {format_bytes(self.total_bytes())}"


def maven_failure(label: str, code: int, log_path: Path) -> str:
    """The message for a failed Maven run: its first real ``[ERROR]`` line and the log's path."""
    text = log_path.read_text(encoding="utf-8", errors="replace")
    hint = ""
    if _NOT_FOUND.search(text):
        hint = " (is that version published on Maven Central, and is Central reachable?)"
    first = ""
    for line in text.splitlines():
        if line.startswith("[ERROR]") and line[len("[ERROR]") :].strip():
            first = line[len("[ERROR]") :].strip()
            break
    detail = f"\n  {first[:400]}" if first else ""
    return f"Maven failed to fetch {label} (exit {code}){hint}{detail}\n  full log: {log_path}"


def run_maven(
    args: list[str],
    *,
    label: str,
    log_path: Path,
    progress: Progress,
    interval: float = 3.0,
    cwd: Path | None = None,
) -> DownloadTally:
    """Run ``mvn -B <args>``, log everything to ``log_path``, report progress under ``label``.

    Raises StackError (pointing at the log) when Maven fails.
    """
    command = [find_mvn(), "-B", *args]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tally = DownloadTally(local_repository())
    finished = threading.Event()
    last_report = [""]

    def ticker() -> None:
        while not finished.wait(interval):
            if tally.in_flight or tally.files:
                line = f"{label}: downloading… {tally.summary()}"
                if line != last_report[0]:
                    last_report[0] = line
                    progress(line)

    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        try:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise StackError(f"could not run Maven: {exc}") from exc
        thread = threading.Thread(target=ticker, name=f"mvn-progress-{label}", daemon=True)
        thread.start()
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                line = strip_ansi(raw)
                log.write(line)
                tally.feed(line)
            code = process.wait()
        finally:
            finished.set()
            thread.join()
            if process.poll() is None:
                process.kill()
    elapsed = time.monotonic() - started
    if code != 0:
        raise StackError(maven_failure(label, code, log_path))
    if tally.files:
        progress(f"{label}: fetched in {elapsed:.1f} s (downloaded {tally.summary()})")
    else:
        progress(f"{label}: resolved from the local Maven repository in {elapsed:.1f} s")
    return tally
