"""The rows of a legacy export, whatever its format: CSV or fixed-width (固定長).

Both readers yield :class:`~renkei.input_formats.csv_rows.CsvRow` (a line number and either the
cells by column name or the problems), so the mapping's field specs, the snapshot diff and
``renkei publish`` treat every format alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from renkei.input_formats.csv_mapping import CsvMapping
from renkei.input_formats.csv_rows import CsvRow, read_csv_rows
from renkei.input_formats.fixed_rows import read_fixed_rows


def read_export_rows(stream: BinaryIO, mapping: CsvMapping) -> Iterator[CsvRow]:
    """The data rows of ``stream`` as ``mapping`` describes the export."""
    if mapping.format == "fixed" and mapping.layout is not None:
        return read_fixed_rows(stream, mapping.layout, mapping.encoding)
    return read_csv_rows(stream, mapping.encoding, mapping.delimiter)
