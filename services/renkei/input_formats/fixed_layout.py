"""The layout of a fixed-width (固定長) export: which bytes of a record hold which column.

Legacy exports define their records in bytes of the file's encoding (CP932: a 全角 character is
2 bytes), so a layout gives byte positions, 1-based as record layouts (レコードレイアウト) write
them::

    format: fixed
    encoding: cp932
    record_length: 64               # optional: read records by length, not by lines
    layout:
      統合宛名番号: {start: 1, length: 15}
      氏: {start: 16, length: 20}              # 全角 10 characters
      世帯人数: {start: 36, length: 3, type: zoned}
      所得割額: {start: 39, length: 5, type: packed, scale: 0}

Column types: ``text`` (decoded, trailing half- and full-width spaces dropped), ``zoned``
(ゾーン10進: one digit per byte, the sign in the last byte's zone) and ``packed`` (パック10進,
COBOL COMP-3: two digits per byte, the sign in the last half-byte). Decimal columns become
their number as text, which the field specs of the mapping then convert like a CSV cell.
A layout with a packed column must give ``record_length``: packed bytes may look like line
breaks, so such files are read by length.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FixedType = Literal["text", "zoned", "packed"]


class FixedColumn(BaseModel):
    """One column of a record: its 1-based first byte, its length in bytes, how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(ge=1, description="first byte, counting from 1")
    length: int = Field(ge=1, description="bytes (a 全角 character is 2 in CP932)")
    type: FixedType = "text"
    scale: int = Field(default=0, ge=0, le=18, description="decimal places of zoned/packed")

    @property
    def end(self) -> int:
        """The last byte (1-based, inclusive)."""
        return self.start + self.length - 1


class FixedLayout(BaseModel):
    """Columns by name, and how records are separated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, FixedColumn]
    record_length: int | None = Field(
        default=None, ge=1, description="read records of this many bytes (no line breaks needed)"
    )
    record_separator: Literal["", "\n", "\r\n"] = Field(
        default="", description="bytes after each length-read record, when the export adds them"
    )
    header_records: int = Field(default=0, ge=0, description="leading records to skip")

    @model_validator(mode="after")
    def _fits(self) -> FixedLayout:
        if not self.columns:
            raise ValueError("a fixed-width layout needs at least one column")
        ordered = sorted(self.columns.items(), key=lambda item: item[1].start)
        for (name_a, a), (name_b, b) in pairwise(ordered):
            if b.start <= a.end:
                raise ValueError(f"columns {name_a!r} and {name_b!r} overlap")
        if self.record_length is not None:
            longest = max(c.end for c in self.columns.values())
            if longest > self.record_length:
                raise ValueError(
                    f"a column ends at byte {longest}, past record_length {self.record_length}"
                )
        elif any(c.type == "packed" for c in self.columns.values()):
            raise ValueError(
                "a layout with packed columns needs record_length (packed bytes may look like "
                "line breaks, so such a file is read by length)"
            )
        elif self.record_separator:
            raise ValueError("record_separator is for length-read records (give record_length)")
        return self

    @property
    def line_length(self) -> int:
        """Bytes a line-read record must have: the end of the last column."""
        return max(c.end for c in self.columns.values())
