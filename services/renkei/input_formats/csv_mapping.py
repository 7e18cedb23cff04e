"""The mapping file: which column of a legacy export feeds which field of a topic's events.

One format for CSV exports, fixed-width (固定長) exports (``format: fixed`` plus a ``layout``:
:mod:`renkei.input_formats.fixed_layout`, docs/fixed-width-input.md) and database change capture
(``cdc``: :mod:`renkei.input_formats.cdc_mapping`, docs/cdc-input.md): the ``fields`` part is the
same for all three. A mapping is YAML (see docs/csv-input.md for a full example)::

    topic: registry.resident.events
    encoding: cp932                 # cp932 (Shift_JIS, Windows) or utf-8 / utf-8-sig
    source_system: jumin-kiroku-legacy
    constants:                      # fields with one value for the whole file
      municipality_code: "011011"
    fields:                         # field path (dotted) -> column spec
      resident_key: {column: 統合宛名番号}
      effective_date: {column: 異動日, type: date}        # 和暦 or 西暦 -> ISO date
      event_type: {column: 異動事由, map: {転入: moved_in, 転出: moved_out}}
      detail.person.family_name_kana: {column: 氏カナ}    # half-width kana kept as recorded
      detail.household.is_head: {column: 続柄, type: bool, true_values: [世帯主]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from renkei.errors import ConfigurationError
from renkei.input_formats.cdc_mapping import CdcRules
from renkei.input_formats.fixed_layout import FixedLayout

ColumnType = Literal["string", "date", "timestamp", "int", "float", "bool", "postal_code"]


class ColumnSpec(BaseModel):
    """How one field is filled: from a column (converted and mapped) or a constant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    value: Any = None
    type: ColumnType = "string"
    map: dict[str, Any] | None = Field(default=None, description="cell text -> field value")
    true_values: tuple[str, ...] = ("1", "true", "TRUE", "はい", "有", "○")
    optional: bool = Field(default=True, description="an empty cell leaves the field out")

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of 'column' or 'value'")
        return self


class DiffRules(BaseModel):
    """Snapshot-diff settings: which fields decide which change event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    removed_event: Literal["moved_out", "died"] = "moved_out"
    added_reason: str = "記載（差分検出）"
    removed_reason: str = "消除（差分検出）"


class CsvMapping(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    format: Literal["csv", "fixed", "cdc"] = "csv"
    encoding: Literal["cp932", "shift_jis", "utf-8", "utf-8-sig"] = "cp932"
    delimiter: str = ","
    layout: FixedLayout | None = Field(
        default=None, description="fixed-width exports: byte positions of the columns"
    )
    cdc: CdcRules | None = Field(
        default=None, description="format cdc: the captured table (docs/cdc-input.md)"
    )
    source_system: str
    constants: dict[str, Any] = Field(default_factory=dict)
    fields: dict[str, ColumnSpec]
    diff: DiffRules = Field(default_factory=DiffRules)

    @property
    def columns(self) -> set[str]:
        return {spec.column for spec in self.fields.values() if spec.column is not None}

    @model_validator(mode="after")
    def _layout_matches(self) -> CsvMapping:
        if self.format == "fixed":
            if self.layout is None:
                raise ValueError("format: fixed needs a layout (the columns' byte positions)")
            missing = sorted(self.columns - set(self.layout.columns))
            if missing:
                raise ValueError(f"fields read columns the layout does not define: {missing}")
        elif self.layout is not None:
            raise ValueError("a layout is for format: fixed")
        if self.format == "cdc":
            if self.cdc is None:
                raise ValueError("format: cdc needs a cdc part (table, change_columns)")
            event_type = self.fields.get("event_type")
            if event_type is None or event_type.column is None:
                raise ValueError(
                    "format: cdc maps event_type from a column of the table (its 異動事由), "
                    "never from the SQL operation"
                )
        elif self.cdc is not None:
            raise ValueError("a cdc part is for format: cdc")
        return self


def load_mapping(path: Path) -> CsvMapping:
    """Read and check a mapping file; ConfigurationError names what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: cannot read the mapping: {exc}") from exc
    try:
        return CsvMapping.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"{path}: invalid mapping: {problems}") from exc
