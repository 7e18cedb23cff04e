"""Self-test of the schema catalogue: every schema parses, every example round-trips, every
field is documented in Japanese and English and has a PII class."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import fastavro
import pytest

from renkei.identifiers.municipality import is_valid_municipality_code
from renkei.schemas.catalogue import load_catalogue
from renkei.schemas.jsonform import to_datum, to_json
from renkei.schemas.models import RecordValidator

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[2] / "schemas" / "avro")
DEPARTMENT_TOPICS = {
    "registry.resident.events",
    "health.checkup.results",
    "welfare.care.certifications",
    "disaster.area.alerts",
    "economy.region.indicators",
}
# Topics the platform's own stages produce (docs/design/streaming-core.md).
OUTPUT_TOPICS = {
    # topic: (key field, partitions, cleanup policy)
    "internal.resident.facts": ("resident_key", 6, "compact"),
    "unified.resident": ("resident_key", 6, "compact"),
    "unified.region": ("region_code", 3, "compact"),
    "derived.evacuation-support": ("list_key", 3, "compact"),
}
BULK_LANES = {"registry.resident.events", "health.checkup.results", "welfare.care.certifications"}
"""Department topics whose bulk exports go to ``<topic>.bulk`` (and their std twins)."""
PLATFORM_TOPICS = {f"std.{topic}" for topic in DEPARTMENT_TOPICS} | set(OUTPUT_TOPICS)
TOPICS = sorted(CATALOGUE.topics)
ENVELOPE = ["event_id", "municipality_code", "effective_date", "recorded_at", "sequence"]
EXAMPLES = [(spec.topic, name) for spec in CATALOGUE for name in spec.examples]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_the_catalogue_has_the_department_and_platform_topics() -> None:
    assert set(CATALOGUE.topics) >= DEPARTMENT_TOPICS | PLATFORM_TOPICS
    # the standardize stage, k8s topics and the simulator take this list from the catalogue
    assert CATALOGUE.department_topics() == tuple(sorted(DEPARTMENT_TOPICS))


def test_every_topic_says_what_it_is_for() -> None:
    roles = {spec.topic: spec.role for spec in CATALOGUE}
    assert all(roles.values()), [t for t, r in roles.items() if not r]
    assert {t for t, r in roles.items() if r == "standardized"} == {
        f"std.{t}" for t in DEPARTMENT_TOPICS
    } | {f"std.{t}.bulk" for t in BULK_LANES}


def test_bulk_twins_have_the_schema_key_and_partitions_of_their_topic() -> None:
    """docs/design/schema-conventions.md: ``bulk_lane: true`` → a ``<topic>.bulk`` twin."""
    assert set(CATALOGUE.bulk_topics()) == {f"{t}.bulk" for t in BULK_LANES} | {
        f"std.{t}.bulk" for t in BULK_LANES
    }
    for twin in CATALOGUE.bulk_topics():
        spec, live = CATALOGUE.get(twin), CATALOGUE.get(twin.removesuffix(".bulk"))
        assert spec.bulk_of == live.topic and not spec.bulk_lane
        assert spec.subject == f"{twin}-value"
        assert spec.schema_text == live.schema_text
        assert (spec.key_field, spec.partitions, spec.role) == (
            live.key_field,
            live.partitions,
            live.role,
        )
        assert spec.metadata["retention_ms"] == live.metadata["retention_ms"]
        assert spec.pii == live.pii and spec.network_zone == live.network_zone


def test_resident_keyed_topics_are_co_partitioned() -> None:
    counts = {s.partitions for s in CATALOGUE if s.key_field == "resident_key"}
    assert len(counts) == 1


@pytest.mark.parametrize("topic", TOPICS)
def test_schema_parses_and_metadata_is_complete(topic: str) -> None:
    spec = CATALOGUE.get(topic)
    assert spec.parsed_schema["type"] == "record"
    assert spec.compatibility in {"BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}
    assert spec.cleanup_policy in {"delete", "compact", "compact,delete"}
    assert spec.network_zone in {"個人番号利用事務系", "LGWAN接続系", "インターネット接続系"}
    assert spec.metadata["owner_department"]
    assert any(f["name"] == spec.key_field for f in spec.schema["fields"])
    assert len(spec.examples) >= 2


@pytest.mark.parametrize("topic", TOPICS)
def test_every_record_starts_with_the_envelope(topic: str) -> None:
    names = [f["name"] for f in CATALOGUE.get(topic).schema["fields"]]
    # Department events (and their std copies) also name the sending system, second.
    if "source_system" in names:
        assert names.index("source_system") == 1
        names.remove("source_system")
    assert names[: len(ENVELOPE)] == ENVELOPE


@pytest.mark.parametrize("source", CATALOGUE.department_topics())
def test_std_topic_mirrors_its_source(source: str) -> None:
    src, std = CATALOGUE.get(source), CATALOGUE.get(f"std.{source}")
    assert std.key_field == src.key_field
    assert std.partitions == src.partitions
    assert std.cleanup_policy == src.cleanup_policy
    assert std.network_zone == src.network_zone
    assert std.schema["namespace"] == src.schema["namespace"].replace(
        "jp.renkei.", "jp.renkei.std."
    )
    src_names = [f["name"] for f in src.schema["fields"]]
    std_names = [f["name"] for f in std.schema["fields"] if f["name"] != "std_meta"]
    assert set(src_names) <= set(std_names)
    assert std.schema["fields"][-1]["name"] == "std_meta"


@pytest.mark.parametrize("topic", sorted(PLATFORM_TOPICS))
def test_platform_topics_are_owned_by_the_platform(topic: str) -> None:
    spec = CATALOGUE.get(topic)
    assert spec.metadata["owner_department"] == "Renkei platform (連携基盤)"
    assert spec.compatibility == "FULL_TRANSITIVE"
    if topic in OUTPUT_TOPICS:
        assert (spec.key_field, spec.partitions, spec.cleanup_policy) == OUTPUT_TOPICS[topic]


def _leaf_paths(schema: Any, prefix: str, named: dict[str, Any]) -> set[str]:
    """Dotted paths of every leaf field (through records, unions and arrays)."""
    if isinstance(schema, str):
        short = schema.rpartition(".")[2]
        return _leaf_paths(named[short], prefix, named) if short in named else {prefix}
    if isinstance(schema, list):
        return set().union(*(_leaf_paths(b, prefix, named) for b in schema if b != "null"))
    if schema["type"] == "record":
        named[schema["name"]] = schema
        return set().union(
            *(
                _leaf_paths(f["type"], f"{prefix}.{f['name']}" if prefix else f["name"], named)
                for f in schema["fields"]
            )
        )
    if schema["type"] == "array":
        return _leaf_paths(schema["items"], prefix, named)
    if schema["type"] == "enum":
        named[schema["name"]] = schema
    return {prefix}


@pytest.mark.parametrize("topic", TOPICS)
def test_every_field_has_a_pii_class(topic: str) -> None:
    spec = CATALOGUE.get(topic)
    assert _leaf_paths(spec.schema, "", {}) == set(spec.pii)


def _documented(schema: Any, where: str) -> list[str]:
    """Names lacking a bilingual doc ("日本語 / English")."""
    missing = []
    if isinstance(schema, list):
        for branch in schema:
            missing += _documented(branch, where)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum"):
            doc = schema.get("doc", "")
            if " / " not in doc or not JAPANESE.search(doc) or not re.search("[A-Za-z]", doc):
                missing.append(f"{where}:{schema['name']}")
        for field in schema.get("fields", []):
            doc = field.get("doc", "")
            if " / " not in doc or not JAPANESE.search(doc) or not re.search("[A-Za-z]", doc):
                missing.append(f"{where}.{field['name']}")
            missing += _documented(field["type"], f"{where}.{field['name']}")
        if schema.get("type") == "array":
            missing += _documented(schema["items"], where)
    return missing


@pytest.mark.parametrize("topic", TOPICS)
def test_every_field_is_documented_in_japanese_and_english(topic: str) -> None:
    assert _documented(CATALOGUE.get(topic).schema, topic) == []


def _filled(value: Any, decoded: Any) -> Any:
    """``value`` with the nulls and defaults that decoding adds, for comparison."""
    if isinstance(value, dict) and isinstance(decoded, dict):
        return {k: _filled(value.get(k), v) if k in value else v for k, v in decoded.items()}
    if isinstance(value, list) and isinstance(decoded, list):
        return [_filled(v, d) for v, d in zip(value, decoded, strict=False)]
    return value


@pytest.mark.parametrize(("topic", "example"), EXAMPLES)
def test_example_validates_and_round_trips(topic: str, example: str) -> None:
    spec = CATALOGUE.get(topic)
    value = spec.examples[example]
    record = RecordValidator(spec.schema).validate(value)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, spec.parsed_schema, to_datum(spec.schema, record))
    buffer.seek(0)
    decoded = to_json(fastavro.schemaless_reader(buffer, spec.parsed_schema))
    assert decoded == _filled(value, decoded)
    assert set(value) <= set(decoded)
    assert is_valid_municipality_code(decoded["municipality_code"])
