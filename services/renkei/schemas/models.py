"""pydantic models built from the Avro schemas, so a record is validated before encoding.

The Avro schema is the single source of truth: models are derived from it, never written by hand,
so they cannot drift. Each string field also gets the 個人番号 guard, and fields with a
``renkei.format`` property get their check (check digits etc.). A record holding a union of
records with ``renkei.branch_by`` becomes a discriminated union of one model per branch, so
JSON input stays flat and errors name the exact field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    create_model,
)

from renkei.errors import InvalidRecord, SchemaError
from renkei.schemas.formats import FORMAT_CHECKS, my_number_guard

_INT32 = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]
_INT64 = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
_NUMBER = Union[StrictFloat, StrictInt]  # noqa: UP007 - a runtime type expression


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Builder:
    """Turns one Avro schema into pydantic types; named types are built once."""

    def __init__(self) -> None:
        self.named: dict[str, Any] = {}

    def type_of(self, schema: Any, namespace: str, field_name: str, fmt: str | None) -> Any:
        if isinstance(schema, str):
            if schema in self.named:
                return self.named[schema]
            qualified = f"{namespace}.{schema}" if namespace and "." not in schema else schema
            if qualified in self.named:
                return self.named[qualified]
            return self._primitive(schema, field_name, fmt)
        if isinstance(schema, list):
            return self._union(schema, namespace, field_name, fmt)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical == "date":
            return dt.date
        if logical in ("timestamp-millis", "timestamp-micros"):
            return AwareDatetime
        if logical == "uuid":
            return uuid.UUID
        if kind == "record":
            return self.record(schema, namespace)
        if kind == "enum":
            enum_type = Literal[tuple(schema["symbols"])]  # type: ignore[valid-type]
            self.named[self._fullname(schema, namespace)] = enum_type
            return enum_type
        if kind == "array":
            return list[self.type_of(schema["items"], namespace, field_name, fmt)]  # type: ignore[misc]
        if kind == "map":
            return dict[str, self.type_of(schema["values"], namespace, field_name, fmt)]  # type: ignore[misc]
        if kind == "fixed":
            return bytes
        return self._primitive(kind, field_name, fmt)

    def _primitive(self, kind: str, field_name: str, fmt: str | None) -> Any:
        if kind == "string":
            checks = [AfterValidator(my_number_guard(field_name))]
            if fmt:
                if fmt not in FORMAT_CHECKS:
                    raise SchemaError(f"unknown renkei.format {fmt!r} on field {field_name!r}")
                checks.append(AfterValidator(FORMAT_CHECKS[fmt]))
            return Annotated[StrictStr, *checks]
        simple = {
            "null": type(None),
            "boolean": StrictBool,
            "int": _INT32,
            "long": _INT64,
            "float": _NUMBER,
            "double": _NUMBER,
            "bytes": bytes,
        }
        if kind not in simple:
            raise SchemaError(f"unknown Avro type {kind!r} on field {field_name!r}")
        return simple[kind]

    def _union(self, branches: list[Any], namespace: str, field_name: str, fmt: str | None) -> Any:
        types = [self.type_of(b, namespace, field_name, fmt) for b in branches if b != "null"]
        inner = types[0] if len(types) == 1 else Union[tuple(types)]  # noqa: UP007
        return Optional[inner] if "null" in branches else inner  # noqa: UP045 - runtime type

    @staticmethod
    def _fullname(schema: dict[str, Any], namespace: str) -> str:
        name = str(schema["name"])
        ns = schema.get("namespace", namespace)
        return name if "." in name or not ns else f"{ns}.{name}"

    def record(self, schema: dict[str, Any], namespace: str) -> Any:
        fullname = self._fullname(schema, namespace)
        namespace = fullname.rpartition(".")[0]
        branch_field = next((f for f in schema["fields"] if "renkei.branch_by" in f), None)
        fields = {f["name"]: self._field(f, namespace) for f in schema["fields"]}
        if branch_field is None:
            model = create_model(fullname.replace(".", "_"), __base__=_Strict, **fields)  # type: ignore[call-overload]
            self.named[fullname] = model
            return model
        return self._branched(fullname, namespace, fields, branch_field)

    def _field(self, field: dict[str, Any], namespace: str) -> tuple[Any, Any]:
        annotation = self.type_of(
            field["type"], namespace, field["name"], field.get("renkei.format")
        )
        if "default" in field:
            return (annotation, field["default"])
        return (annotation, ...)

    def _branched(
        self,
        fullname: str,
        namespace: str,
        fields: dict[str, tuple[Any, Any]],
        branch_field: dict[str, Any],
    ) -> Any:
        """One model per branch, tagged by the enum field ``renkei.branch_by`` names."""
        tag = branch_field["renkei.branch_by"]
        variants = []
        for branch in branch_field["type"]:
            branch_model = self.type_of(branch, namespace, branch_field["name"], None)
            branch_schema = branch if isinstance(branch, dict) else None
            value = (branch_schema or {}).get("renkei.branch_value")
            if value is None:
                raise SchemaError(
                    f"{fullname}: every branch of {branch_field['name']!r} "
                    "needs a renkei.branch_value"
                )
            variant_fields = dict(fields)
            variant_fields[tag] = (Literal[value], ...)
            variant_fields[branch_field["name"]] = (branch_model, ...)
            name = f"{fullname.replace('.', '_')}__{value}"
            variants.append(create_model(name, __base__=_Strict, **variant_fields))  # type: ignore[call-overload]
        union = Annotated[Union[tuple(variants)], Field(discriminator=tag)]  # type: ignore[valid-type]  # noqa: UP007
        self.named[fullname] = union
        return union


class RecordValidator:
    """Validates a record in Renkei JSON form against one topic's Avro schema."""

    def __init__(self, schema: dict[str, Any]):
        root = _Builder().record(schema, "")
        self._adapter: TypeAdapter[Any] = TypeAdapter(root)
        # A discriminated union puts the tag value first in every error location.
        self._skip = 0 if isinstance(root, type) else 1
        self._tag = next(
            (f["renkei.branch_by"] for f in schema["fields"] if "renkei.branch_by" in f), ""
        )

    def model(self, value: Any) -> BaseModel:
        """The record as its pydantic model (typed attribute access); InvalidRecord when bad."""
        try:
            model: BaseModel = self._adapter.validate_python(value)
        except ValidationError as exc:
            raise InvalidRecord([self._describe(err) for err in exc.errors()]) from None
        return model

    def validate(self, value: Any) -> dict[str, Any]:
        """The record as Python values (dates, datetimes, UUIDs) ready for Avro encoding.

        Raises InvalidRecord with (field path, reason) pairs; reasons never echo the value.
        """
        try:
            model = self._adapter.validate_python(value)
        except ValidationError as exc:
            raise InvalidRecord([self._describe(err) for err in exc.errors()]) from None
        dumped: dict[str, Any] = model.model_dump()
        return dumped

    def _describe(self, error: Any) -> tuple[str, str]:
        """(dotted path, reason) of one pydantic error, without the input value."""
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            return (self._tag, str(error["msg"]))
        path = ".".join(str(part) for part in error["loc"][self._skip :])
        message = str(error["msg"])
        if error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        return (path or "(record)", message)
