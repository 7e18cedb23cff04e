"""Reading fixed-width (固定長) exports record by record into the rows the mapping reads.

A record is cut into columns by byte position (:mod:`renkei.input_formats.fixed_layout`), each
text column decoded on its own, so a column boundary that cuts a 全角 character is reported as
such. Records are lines (LF or CRLF) unless the layout gives ``record_length``; then they are
read by length, which packed decimals need. A bad column makes its record a problem row naming
the column and the byte positions, never the bytes themselves; the other records go on.

Row numbers are the record's line in the file (1-based, header records included), so that
``renkei publish`` reports ``line N`` for both line- and length-read files.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO

from renkei.input_formats.csv_rows import CsvRow
from renkei.input_formats.fixed_layout import FixedColumn, FixedLayout
from renkei.publish.jsonl import MAX_LINE_BYTES, TOO_LONG, bounded_lines

_PADDING = " \u3000"
_POSITIVE = {0xA, 0xC, 0xE, 0xF}
_NEGATIVE = {0xB, 0xD}


class ColumnError(ValueError):
    """A column's bytes cannot be read as its type (message value-free)."""


def read_fixed_rows(stream: BinaryIO, layout: FixedLayout, encoding: str) -> Iterator[CsvRow]:
    """Yield every data record of a fixed-width export as a row (cells or problems)."""
    for number, record, problem in _records(stream, layout):
        if number <= layout.header_records:
            continue
        if record is None:
            yield CsvRow(number, None, (("(line)", problem),))
            continue
        yield cut_record(number, record, layout, encoding)


def cut_record(number: int, record: bytes, layout: FixedLayout, encoding: str) -> CsvRow:
    """One record's columns (or the problems of the columns that cannot be read)."""
    cells: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for name, column in layout.columns.items():
        raw = record[column.start - 1 : column.end]
        try:
            cells[name] = read_column(raw, column, encoding)
        except ColumnError as exc:
            problems.append((f"(column {name}, bytes {column.start}-{column.end})", str(exc)))
    if problems:
        return CsvRow(number, None, tuple(problems))
    return CsvRow(number, cells)


def read_column(raw: bytes, column: FixedColumn, encoding: str) -> str:
    """The column's text: decoded and unpadded, or a decimal number as text."""
    if column.type == "packed":
        return _text_of(_packed(raw), column.scale)
    if column.type == "zoned":
        return "" if not raw.strip(b" ") else _text_of(_zoned(raw), column.scale)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        cut = exc.start == len(raw) - 1 and exc.reason.startswith("incomplete")
        hint = (
            "the column ends inside a 全角 character: check start/length in the layout"
            if cut or exc.start == len(raw) - 1
            else "check the export's character encoding and the layout's offsets"
        )
        raise ColumnError(
            f"not valid {encoding.upper()} at byte {column.start + exc.start} ({hint})"
        ) from exc
    return text.rstrip(_PADDING).strip(" ")


def _text_of(value: int, scale: int) -> str:
    return str(Decimal(value).scaleb(-scale)) if scale else str(value)


def _zoned(raw: bytes) -> int:
    """ゾーン10進: digits as ASCII (0x3n) or EBCDIC-style (0xFn) bytes; the last byte's zone is
    the sign (3/F/C/A/E positive, 7 (ASCII COBOL convention) or D/B negative)."""
    digits = 0
    negative = False
    for index, byte in enumerate(raw):
        zone, digit = byte >> 4, byte & 0xF
        if digit > 9:
            raise ColumnError(f"not a zoned decimal (byte {index + 1} is no digit)")
        if index < len(raw) - 1:
            if zone not in (0x3, 0xF):
                raise ColumnError(f"not a zoned decimal (byte {index + 1} is no digit)")
        elif zone in (0x7, *_NEGATIVE):
            negative = True
        elif zone not in (0x3, *_POSITIVE):
            raise ColumnError("not a zoned decimal (the last byte carries no sign)")
        digits = digits * 10 + digit
    return -digits if negative else digits


def _packed(raw: bytes) -> int:
    """パック10進 (COMP-3): two BCD digits per byte, the last half-byte the sign."""
    nibbles = [n for byte in raw for n in (byte >> 4, byte & 0xF)]
    *digits, sign = nibbles
    if any(d > 9 for d in digits):
        raise ColumnError("not a packed decimal (a half-byte is no digit)")
    if sign not in _POSITIVE | _NEGATIVE:
        raise ColumnError("not a packed decimal (the last half-byte is no sign)")
    value = 0
    for digit in digits:
        value = value * 10 + digit
    return -value if sign in _NEGATIVE else value


def _records(stream: BinaryIO, layout: FixedLayout) -> Iterator[tuple[int, bytes | None, str]]:
    """(number, record bytes or None, problem) for every record of the file."""
    if layout.record_length is None:
        yield from _lines(stream, layout.line_length)
        return
    size = layout.record_length
    separator = layout.record_separator.encode("ascii")
    number = 0
    while True:
        record = stream.read(size)
        if not record:
            return
        number += 1
        if len(record) < size:
            if record.strip(b"\r\n\x1a ") == b"":  # a final line break or EOF mark
                return
            yield number, None, f"last record has {len(record)} bytes, the layout says {size}"
            return
        if separator:
            after = stream.read(len(separator))
            if after != separator:
                yield number, None, "record not followed by the layout's record_separator"
                return
        yield number, record, ""


def _lines(stream: BinaryIO, needed: int) -> Iterator[tuple[int, bytes | None, str]]:
    for number, raw in bounded_lines(stream, MAX_LINE_BYTES):
        if raw is None:
            yield number, None, TOO_LONG
            continue
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        if len(line) < needed:
            yield (
                number,
                None,
                f"{len(line)} bytes, but the layout's last column ends at byte {needed}",
            )
            continue
        yield number, line, ""
