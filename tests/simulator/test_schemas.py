"""Every generated value is a valid record of its topic's value.avsc (schemas/avro/).

The JSON form goes through the same path as ``renkei publish``: the pydantic validator built
from the schema (formats, 個人番号 guard), ``jsonform.to_datum`` (branch tuples for the detail
union), fastavro's writer; decoding and ``to_json`` must give the value back unchanged.
"""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest

from renkei.schemas.catalogue import Catalogue
from renkei.schemas.jsonform import to_datum, to_json
from renkei.schemas.models import RecordValidator
from renkei.simulator import TOPICS, simulate
from tests.simulator.conftest import Run


@pytest.fixture(scope="module")
def codecs(catalogue: Catalogue) -> dict[str, tuple[dict[str, Any], RecordValidator, Any]]:
    assert set(TOPICS) == set(catalogue.department_topics())  # a missing schema fails
    return {
        topic: (spec.schema, RecordValidator(spec.schema), spec.parsed_schema)
        for topic, spec in catalogue.topics.items()
        if topic in TOPICS
    }


def _round_trip(codec: tuple[dict[str, Any], RecordValidator, Any], value: dict[str, Any]) -> Any:
    schema, validator, parsed = codec
    datum = to_datum(schema, validator.validate(value))
    assert fastavro.validation.validate(datum, parsed, raise_errors=True)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, datum)
    buffer.seek(0)
    return to_json(fastavro.schemaless_reader(buffer, parsed))


def test_every_generated_value_validates_and_round_trips(
    run: Run, codecs: dict[str, tuple[dict[str, Any], RecordValidator, Any]]
) -> None:
    for event in run.events:
        assert _round_trip(codecs[event.topic], event.value) == event.value


@pytest.mark.parametrize("code", ["131016", "141518"])
def test_other_municipalities_validate_too(
    code: str, codecs: dict[str, tuple[dict[str, Any], RecordValidator, Any]]
) -> None:
    for event in simulate(code, residents=200, events=2000, seed=3):
        assert _round_trip(codecs[event.topic], event.value) == event.value


def test_the_key_is_the_field_the_topic_metadata_names(
    run: Run, catalogue: Catalogue, codecs: dict[str, tuple[dict[str, Any], RecordValidator, Any]]
) -> None:
    for event in run.events:
        assert event.key == event.value[catalogue.get(event.topic).key_field]
