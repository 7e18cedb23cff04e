"""How the stack manager talks to its caller: a progress callback and log excerpts for errors."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from pathlib import Path

Progress = Callable[[str], None]
"""Receives one short human-readable line at a time (the CLI passes ``click.echo``)."""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PROBLEM = re.compile(r"\b(ERROR|FATAL|SEVERE|Exception|Error:)")


BANNER = "----- "
"""Starts the line the stack writes into a server's output log before each launch."""


def no_progress(_line: str) -> None:
    """A :data:`Progress` that discards everything (library use, tests)."""


def strip_ansi(text: str) -> str:
    """Maven's launcher script and Quarkus may colour their output; logs and messages don't."""
    return _ANSI.sub("", text)


def log_excerpt(path: Path, *, lines: int = 6, scan: int = 400) -> str:
    """The last problem lines of a log (or its last lines) since the latest launch banner."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            recent = deque((strip_ansi(line.rstrip()) for line in handle), maxlen=scan)
    except FileNotFoundError:
        return ""
    lines_since_start = list(recent)
    for index in range(len(lines_since_start) - 1, -1, -1):
        if lines_since_start[index].startswith(BANNER):
            lines_since_start = lines_since_start[index + 1 :]
            break
    recent_lines = [line for line in lines_since_start if line.strip()]
    problems = [line for line in recent_lines if _PROBLEM.search(line)]
    chosen = (problems or recent_lines)[-lines:]
    return "\n".join(f"    {line[:300]}" for line in chosen)


def with_excerpt(message: str, *logs: Path) -> str:
    """``message`` followed by where to look and what the first existing log says."""
    names = ", ".join(str(log) for log in logs)
    text = f"{message}\n  see {names}"
    for log in logs:
        excerpt = log_excerpt(log)
        if excerpt:
            return f"{text}\n  last lines of {log.name}:\n{excerpt}"
    return text


def format_bytes(count: float) -> str:
    """``52_428_800`` → ``"50.0 MB"`` (binary multiples, like ``du -h``)."""
    for unit in ("B", "kB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.2f} GB"
