"""A department topic the platform does not ship — 学齢簿 (school enrolment) — added the way
docs/design/adding-a-department.md describes: a schema folder pair in a catalogue, and one
standardize step that the stage is given. Used by test_adding_a_department.py; no product file
knows this topic.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from renkei.normalize.dates import parse_date
from renkei.normalize.errors import StandardizationError
from renkei.runtime.app import StageApp
from renkei.settings import Settings
from renkei.stages.standardize.record_common import Corrections, located
from renkei.stages.standardize.stage import build_standardize

TOPIC = "education.school.enrollments"
REPO = Path(__file__).resolve().parents[3]

_ENVELOPE = ("event_id", "source_system", "municipality_code", "effective_date", "recorded_at")


def _envelope_fields() -> list[dict[str, Any]]:
    """The envelope fields, taken from a shipped department schema (same docs and types)."""
    shipped = json.loads((REPO / "schemas/avro/health.checkup.results/value.avsc").read_text())
    wanted = (*_ENVELOPE, "sequence", "resident_key")
    return [copy.deepcopy(f) for f in shipped["fields"] if f["name"] in wanted]


def _std_meta(namespace: str) -> dict[str, Any]:
    shipped = json.loads((REPO / "schemas/avro/std.health.checkup.results/value.avsc").read_text())
    (meta,) = [copy.deepcopy(f) for f in shipped["fields"] if f["name"] == "std_meta"]
    meta["type"]["namespace"] = namespace
    return meta


SCHOOL_FIELDS: list[dict[str, Any]] = [
    {
        "name": "school_code",
        "type": "string",
        "doc": "学校コード（文部科学省の13桁） / School code (13 characters, MEXT)",
    },
    {"name": "grade", "type": "int", "doc": "学年（1〜9） / Grade (1 to 9)"},
]


def source_schema() -> dict[str, Any]:
    fields = _envelope_fields() + SCHOOL_FIELDS
    fields.append(
        {
            "name": "enrolled_on",
            "type": "string",
            "doc": "入学日（学齢簿システムの表記のまま。和暦も可） / Enrolment date as the "
            "system writes it (和暦 allowed)",
        }
    )
    return {
        "type": "record",
        "name": "SchoolEnrollment",
        "namespace": "jp.renkei.education",
        "doc": "学齢簿の入学記録 / An enrolment in the school register (学齢簿)",
        "fields": fields,
    }


def std_schema() -> dict[str, Any]:
    fields = _envelope_fields() + SCHOOL_FIELDS
    fields.append(
        {
            "name": "enrolled_on",
            "type": {"type": "int", "logicalType": "date"},
            "doc": "入学日（西暦） / Enrolment date (Gregorian)",
        }
    )
    fields.append(_std_meta("jp.renkei.std.education"))
    return {
        "type": "record",
        "name": "SchoolEnrollment",
        "namespace": "jp.renkei.std.education",
        "doc": "標準化済みの入学記録 / A standardized enrolment",
        "fields": fields,
    }


def _metadata(topic: str, role: str, schema: dict[str, Any]) -> dict[str, Any]:
    pii = {f["name"]: "none" for f in schema["fields"] if f["name"] != "std_meta"}
    pii.update(resident_key="identifier", school_code="personal", grade="personal")
    pii["enrolled_on"] = "personal"
    metadata = {
        "topic": topic,
        "role": role,
        "owner_department": "学務課 (School Affairs Division)",
        "description": "学齢簿の入学記録 / School enrolments",
        "key": "resident_key",
        "key_format": "resident_key",
        "partitions": 6,
        "cleanup_policy": "delete",
        "retention_ms": 604800000,
        "compatibility": "FULL_TRANSITIVE",
        "network_zone": "個人番号利用事務系",
        "pii": pii,
    }
    if role == "department":
        metadata["source_system"] = "gakurei-bo"
    return metadata


EXAMPLE: dict[str, Any] = {
    "event_id": "5f0e7a52-3b1d-4c6e-9a7f-1d2c3b4a5e6f",
    "source_system": "gakurei-bo",
    "municipality_code": "011011",
    "effective_date": "2026-04-06",
    "recorded_at": "2026-04-06T10:00:00+09:00",
    "sequence": 1,
    "resident_key": "000000000000901",
    "school_code": "B101210000010",
    "grade": 1,
    "enrolled_on": "令和8年4月6日",
}


def write_catalogue(root: Path) -> Path:
    """A copy of the shipped catalogue plus ``education.school.enrollments`` and its std twin,
    under ``root/avro``."""
    target = root / "avro"
    shutil.copytree(REPO / "schemas" / "avro", target)
    for topic, role, schema in (
        (TOPIC, "department", source_schema()),
        (f"std.{TOPIC}", "standardized", std_schema()),
    ):
        folder = target / topic
        (folder / "examples").mkdir(parents=True)
        (folder / "value.avsc").write_text(json.dumps(schema, ensure_ascii=False, indent=2))
        meta = yaml.safe_dump(_metadata(topic, role, schema), allow_unicode=True)
        (folder / "topic.yaml").write_text(meta, encoding="utf-8")
    (target / TOPIC / "examples" / "first_grade.json").write_text(
        json.dumps(EXAMPLE, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return target


def standardize_enrollment(value: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    """The department's standardize step: 和暦 or ISO enrolment date → a date; grade 1–9."""
    if not 1 <= int(value["grade"]) <= 9:
        raise StandardizationError("grade", "not a grade of compulsory school (1 to 9)")
    enrolled = located("enrolled_on", parse_date, str(value["enrolled_on"]))
    fixes.note("enrolled_on", value["enrolled_on"], enrolled.isoformat())
    return {**value, "enrolled_on": enrolled}


STEPS = {TOPIC: standardize_enrollment}


def build(settings: Settings, **options: Any) -> StageApp:
    """``renkei worker tests.stages.standardize.new_department:build``: the standardize stage
    with the department's step (the catalogue comes from RENKEI_SCHEMAS_DIR)."""
    return build_standardize(settings, steps=STEPS, **options)
