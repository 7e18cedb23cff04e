"""Reading legacy CSV exports (CP932 or UTF-8, header row) row by row.

A physical line that does not decode in the file's encoding is reported with its line number and
skipped; the other lines go on. (A quoted cell spanning lines is supported only when all its
lines decode.) Reasons never echo cell contents.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from renkei.errors import ConfigurationError
from renkei.publish.jsonl import TOO_LONG, bounded_lines


@dataclass(frozen=True)
class CsvRow:
    """One data row: the line it starts on and either its cells by column or its problems."""

    line: int
    cells: dict[str, str] | None
    problems: tuple[tuple[str, str], ...] = ()


def _decoded_lines(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, str | None, str]]:
    """(line number, text or None, reason) for every physical line."""
    for number, raw in bounded_lines(stream):
        if raw is None:
            yield number, None, TOO_LONG
            continue
        try:
            yield number, raw.decode(encoding), ""
        except UnicodeDecodeError as exc:
            yield (
                number,
                None,
                (
                    f"not valid {encoding.upper()} (byte 0x{raw[exc.start]:02x} at byte "
                    f"{exc.start + 1}); check the export's character encoding"
                ),
            )


def read_csv_rows(stream: BinaryIO, encoding: str, delimiter: str = ",") -> Iterator[CsvRow]:
    """Yield the data rows of a CSV export whose first line is the header."""
    lines = _decoded_lines(stream, encoding)
    header_line = next(lines, None)
    if header_line is None or header_line[1] is None:
        raise ConfigurationError("the CSV file has no readable header row")
    header = next(csv.reader([header_line[1].lstrip("\ufeff")], delimiter=delimiter))
    header = [name.strip() for name in header]
    # Physical line of every good line fed to the CSV reader that a record may still start on
    # (the reader's line ``first + i`` is ``numbers[i]``): lines before the next record are
    # dropped, so a large file is read in constant memory.
    numbers: deque[int] = deque()
    first = 0
    pending: list[CsvRow] = []  # undecodable lines met while the reader reads ahead

    def feed() -> Iterator[str]:
        for number, text, reason in lines:
            if text is None:
                pending.append(CsvRow(number, None, (("(line)", reason),)))
            elif text.strip():
                numbers.append(number)
                yield text

    reader = csv.reader(feed(), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num  # the next record starts at the next good line
        while first < start and len(numbers) > 1:
            numbers.popleft()
            first += 1
        try:
            cells: list[str] | None = next(reader)
            problem = ""
        except StopIteration:
            break
        except csv.Error as exc:
            cells, problem = None, f"malformed CSV: {exc}"
        index = start - first
        number = numbers[index] if index < len(numbers) else numbers[-1]
        yield from _flush(pending, before=number)
        if cells is not None and len(cells) != len(header):
            problem = f"{len(cells)} cells but the header has {len(header)} columns"
        if problem or cells is None:
            yield CsvRow(number, None, (("(line)", problem),))
            continue
        yield CsvRow(number, {name: cell.strip() for name, cell in zip(header, cells, strict=True)})
    yield from _flush(pending, before=None)


def _flush(pending: list[CsvRow], before: int | None) -> Iterator[CsvRow]:
    """Yield (and drop) the pending rows that come before line ``before`` (all when None)."""
    ready = [row for row in pending if before is None or row.line < before]
    for row in ready:
        pending.remove(row)
    yield from ready
