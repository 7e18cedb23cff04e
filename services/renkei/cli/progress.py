"""Progress for long CLI work: a live line on a terminal, a line every 10 % otherwise."""

from __future__ import annotations

import sys
import time

import click


class Progress:
    """Counts done items against a planned total and reports the rate."""

    def __init__(self, label: str, total: int, *, stream=None):  # type: ignore[no-untyped-def]
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.started = time.monotonic()
        self._stream = stream or sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._next_tenth = 1
        self._last_draw = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self._tty and now - self._last_draw > 0.2:
            self._last_draw = now
            click.echo(f"\r{self._line()}", nl=False, file=self._stream)
        elif not self._tty and self.done * 10 >= self._next_tenth * self.total:
            self._next_tenth = self.done * 10 // self.total + 1
            click.echo(self._line(), file=self._stream)

    def finish(self) -> float:
        """Print a closing summary; returns elapsed seconds."""
        elapsed = time.monotonic() - self.started
        rate = self.done / max(elapsed, 1e-6)
        summary = f"{self.label}: {self.done} done in {elapsed:.1f} s ({rate:,.0f}/s)"
        click.echo(("\r" if self._tty else "") + summary, file=self._stream)
        return elapsed

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        pct = min(100, self.done * 100 // self.total)
        return f"{self.label}: {self.done}/{self.total} ({pct}%) {self.done / elapsed:,.0f}/s"
