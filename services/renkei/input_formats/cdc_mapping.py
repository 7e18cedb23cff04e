"""The ``cdc`` part of a mapping file: which table a database's change feed comes from, and
which of its columns say that a row records a new 異動.

::

    format: cdc
    cdc:
      table: public.jumin_kiroku          # schema.table, as Debezium names it
      change_columns: [異動事由, 異動日, 異動連番]
      snapshot: skip                      # or as_recorded (docs/cdc-input.md)
    fields:                               # the same field specs as a CSV mapping; a
      event_type: {column: 異動事由, map: {...}}   # "column" is a column of the table

A legacy 住民記録 table holds one row per resident with the resident's latest 異動 (its reason
and date) written into the row. So the *row* says what happened, not the SQL operation: an
INSERT of a 出生 row is a birth, an UPDATE that writes 転居 is a move. ``change_columns``
identify one recorded 異動: an UPDATE that changes none of them records no new 異動.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class CdcRules(BaseModel):
    """Where the change feed comes from and how its rows are read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(description="schema.table of the captured table")
    change_columns: tuple[str, ...] = Field(
        min_length=1,
        description="the columns that identify the 異動 a row records (reason, date, 連番)",
    )
    snapshot: Literal["skip", "as_recorded"] = Field(
        default="skip",
        description=(
            "rows of the connector's initial snapshot (op r): skip them (default), or publish "
            "each as the 異動 its row records, with that 異動's own date"
        ),
    )

    @field_validator("table")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if not _TABLE.match(value):
            raise ValueError("table must be schema.table with ASCII names (e.g. public.jumin)")
        return value

    @property
    def schema_name(self) -> str:
        return self.table.partition(".")[0]

    @property
    def table_name(self) -> str:
        return self.table.partition(".")[2]
