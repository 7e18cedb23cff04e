"""Reading department JSON Lines files line by line, reporting each bad line precisely.

A bad line (not UTF-8, not JSON, not an object) is reported with its number and the reason;
the other lines go on. Reasons never echo the line's content: it may hold personal data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO


@dataclass(frozen=True)
class JsonLine:
    """One line: its number and either the parsed object or the problems found."""

    number: int
    value: dict[str, Any] | None
    problems: tuple[tuple[str, str], ...] = ()


def read_json_lines(stream: BinaryIO) -> Iterator[JsonLine]:
    """Yield every non-blank line of ``stream`` (bytes) as a JsonLine."""
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield JsonLine(
                number,
                None,
                (
                    (
                        "(line)",
                        f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at byte {exc.start + 1}); "
                        "save the file as UTF-8, or use the CSV adapter for CP932 exports",
                    ),
                ),
            )
            continue
        try:
            value = json.loads(text.removeprefix("\ufeff"))
        except json.JSONDecodeError as exc:
            yield JsonLine(
                number, None, (("(line)", f"not JSON: {exc.msg} at column {exc.colno}"),)
            )
            continue
        if not isinstance(value, dict):
            yield JsonLine(number, None, (("(line)", "a line must be one JSON object"),))
            continue
        yield JsonLine(number, value)


def open_input(path: str) -> BinaryIO:
    """Open ``path`` for reading bytes; ``-`` means standard input."""
    import sys

    if path == "-":
        return sys.stdin.buffer
    return Path(path).open("rb")
