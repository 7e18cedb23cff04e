"""Reading department JSON Lines files line by line, reporting each bad line precisely.

A bad line (not UTF-8, not JSON, not an object) is reported with its number and the reason;
the other lines go on. Reasons never echo the line's content: it may hold personal data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

MAX_LINE_BYTES: Final = 1024 * 1024
"""Longest input line read: a Kafka record is at most 1 MiB by default, and an endless line
(a file without line breaks, a corrupted export) must not be read into memory whole."""
TOO_LONG: Final = (
    f"line longer than {MAX_LINE_BYTES // 1024 // 1024} MiB: refused (a record must fit in one "
    "Kafka record); is the file's line ending right?"
)


def bounded_lines(
    stream: BinaryIO, limit: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """(number, line) for every physical line of ``stream``; ``None`` for a line longer than
    ``limit`` bytes, whose rest is skipped in chunks without being kept."""
    number = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield number, raw
            continue
        while raw and not raw.endswith(b"\n"):
            raw = stream.readline(limit)
        yield number, None


MAX_DEPTH: Final = 32
"""Deepest nesting of objects and arrays a line may have: the deepest schema nests 4 levels;
the checks that walk a value (validation, 個人番号 masking) recurse per level."""
TOO_DEEP: Final = f"nested deeper than {MAX_DEPTH} levels: refused (no schema nests that deep)"


def nesting_depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


@dataclass(frozen=True)
class JsonLine:
    """One line: its number and either the parsed object or the problems found."""

    number: int
    value: dict[str, Any] | None
    problems: tuple[tuple[str, str], ...] = ()


def read_json_lines(stream: BinaryIO) -> Iterator[JsonLine]:
    """Yield every non-blank line of ``stream`` (bytes) as a JsonLine."""
    for number, raw in bounded_lines(stream):
        if raw is None:
            yield JsonLine(number, None, (("(line)", TOO_LONG),))
            continue
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
        except RecursionError:  # the parser recurses per nesting level
            yield JsonLine(number, None, (("(line)", TOO_DEEP),))
            continue
        if nesting_depth(value) > MAX_DEPTH:
            yield JsonLine(number, None, (("(line)", TOO_DEEP),))
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
