"""standardize_event: every department example and a simulated run go source Avro → std Avro,
plus the corrections and refusals one record at a time."""

from __future__ import annotations

import copy
import datetime as dt
import io
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
import pytest

from renkei.contracts.stages import std_topic
from renkei.errors import ConfigurationError
from renkei.identifiers.mynumber import my_number_check_digit
from renkei.normalize.errors import StandardizationError
from renkei.schemas.catalogue import TopicSpec, load_catalogue
from renkei.schemas.jsonform import to_datum, to_json
from renkei.schemas.models import RecordValidator
from renkei.simulator import simulate
from renkei.stages.standardize.record_common import DIGIT_LIKE
from renkei.stages.standardize.records import StdResult, standardize_event
from tests.contract_lists import DEPARTMENT_TOPICS

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[3] / "schemas" / "avro")
REGISTRY = "registry.resident.events"
CARE = "welfare.care.certifications"
CHECKUP = "health.checkup.results"
AT = dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC)
EXAMPLES = [(topic, name) for topic in DEPARTMENT_TOPICS for name in CATALOGUE.get(topic).examples]


@cache
def _validator(topic: str) -> RecordValidator:
    return RecordValidator(CATALOGUE.get(topic).schema)


def _encode(spec: TopicSpec, datum: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, spec.parsed_schema, datum)
    return buffer.getvalue()


def _decode(spec: TopicSpec, body: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(body), spec.parsed_schema)


def decoded_source(topic: str, value: dict[str, Any]) -> dict[str, Any]:
    """A Renkei-JSON department record as the standardize stage receives it from Kafka."""
    spec = CATALOGUE.get(topic)
    record = _validator(topic).validate(value)
    decoded: dict[str, Any] = _decode(spec, _encode(spec, to_datum(spec.schema, record)))
    return decoded


def through_std(topic: str, value: dict[str, Any]) -> tuple[StdResult, dict[str, Any]]:
    """Standardize a Renkei-JSON record, write it with the std schema, read it back and check
    the result in Renkei JSON form (renkei.format checks included) against the std schema."""
    result = standardize_event(topic, decoded_source(topic, value), standardized_at=AT)
    std = CATALOGUE.get(std_topic(topic))
    decoded = to_json(_decode(std, _encode(std, result.value)))
    _validator(std.topic).validate(decoded)
    return result, decoded


def example(topic: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(CATALOGUE.get(topic).examples[name])


def refused(topic: str, value: dict[str, Any]) -> StandardizationError:
    with pytest.raises(StandardizationError) as caught:
        standardize_event(topic, decoded_source(topic, value))
    return caught.value


# ---- round trips ---------------------------------------------------------------------------
@pytest.mark.parametrize(("topic", "name"), EXAMPLES)
def test_department_example_standardizes_and_encodes(topic: str, name: str) -> None:
    result, decoded = through_std(topic, example(topic, name))
    assert decoded["std_meta"]["source_topic"] == topic
    assert decoded["std_meta"]["corrected_fields"] == list(result.corrected_fields)
    assert decoded["event_id"] == CATALOGUE.get(topic).examples[name]["event_id"]


@pytest.mark.parametrize(("topic", "name"), EXAMPLES)
def test_std_catalogue_example_is_what_standardization_gives(topic: str, name: str) -> None:
    expected = copy.deepcopy(CATALOGUE.get(std_topic(topic)).examples[name])
    _, decoded = through_std(topic, example(topic, name))
    assert decoded["std_meta"]["corrected_fields"] == expected["std_meta"]["corrected_fields"]
    del decoded["std_meta"], expected["std_meta"]
    assert decoded == expected


def test_a_simulated_run_standardizes_without_failures() -> None:
    failures: list[str] = []
    seen: Counter[str] = Counter()
    corrected: Counter[str] = Counter()
    for event in simulate("011011", residents=200, events=400, seed=1):
        try:
            result, _ = through_std(event.topic, event.value)
        except Exception as exc:  # report every failure, not only the first
            failures.append(f"{event.topic} {event.value.get('event_type', '')}: {exc!r}")
            continue
        seen[event.topic] += 1
        corrected.update(result.corrected_fields)
    assert failures == []
    assert set(seen) == set(DEPARTMENT_TOPICS)
    # The simulator writes some records as legacy systems do (和暦, half-width kana, full-width
    # digits in addresses): exactly those are corrected, nothing else.
    assert set(corrected) == {
        "detail.person.birth_date",
        "detail.person.family_name_kana",
        "detail.person.given_name_kana",
        "detail.address.address_text",
    }


# ---- corrections ---------------------------------------------------------------------------
def test_half_width_kana_becomes_full_width() -> None:
    result, decoded = through_std(REGISTRY, example(REGISTRY, "born"))
    person = decoded["detail"]["person"]
    assert (person["family_name_kana"], person["given_name_kana"]) == ("サトウ", "ハルト")
    assert "detail.person.family_name_kana" in result.corrected_fields
    assert "detail.person.given_name_kana" in result.corrected_fields


def test_wareki_birth_dates_become_dates() -> None:
    result, decoded = through_std(REGISTRY, example(REGISTRY, "moved_in"))
    assert decoded["detail"]["person"]["birth_date"] == "1980-04-01"  # 昭和55年4月1日
    assert "detail.person.birth_date" in result.corrected_fields
    result, decoded = through_std(REGISTRY, example(REGISTRY, "born"))
    assert decoded["detail"]["person"]["birth_date"] == "2026-10-03"  # R08.10.03


def test_an_iso_birth_date_and_sex_code_are_not_corrections() -> None:
    result, decoded = through_std(REGISTRY, example(REGISTRY, "corrected"))
    person = decoded["detail"]["person"]
    assert (person["birth_date"], person["sex"]) == ("1994-11-23", "female")
    assert "detail.person.birth_date" not in result.corrected_fields
    assert "detail.person.sex" not in result.corrected_fields


def test_a_sex_written_as_text_is_a_correction() -> None:
    value = example(REGISTRY, "moved_in")
    value["detail"]["person"]["sex"] = "男"
    result, decoded = through_std(REGISTRY, value)
    assert decoded["detail"]["person"]["sex"] == "male"
    assert "detail.person.sex" in result.corrected_fields


def test_full_width_address_is_normalized_and_split() -> None:
    value = example(REGISTRY, "moved_within")
    value["detail"]["address"]["address_text"] = "北海道札幌市中央区宮の森二条７丁目３番１５号"
    result, decoded = through_std(REGISTRY, value)
    address = decoded["detail"]["address"]
    assert address["address_text"] == "北海道札幌市中央区宮の森二条7丁目3番15号"
    assert (address["prefecture"], address["city"]) == ("北海道", "札幌市中央区")
    assert address["chome"] == 7
    assert (address["municipality_code"], address["region_code"]) == ("011011", "011011:0640952")
    assert "detail.address.address_text" in result.corrected_fields


def test_a_missing_postal_code_is_filled_in_and_listed() -> None:
    value = example(REGISTRY, "moved_within")
    value["detail"]["address"]["postal_code"] = None
    result, decoded = through_std(REGISTRY, value)
    assert decoded["detail"]["address"]["postal_code"] == "0640952"
    assert "detail.address.postal_code" in result.corrected_fields


def test_relationship_is_split_into_base_and_chain() -> None:
    value = example(REGISTRY, "moved_within")
    value["detail"]["household"]["relationship"] = "子の妻"
    result, decoded = through_std(REGISTRY, value)
    assert decoded["detail"]["household"]["relationship"] == {
        "display": "子の妻",
        "base": "子",
        "chain": ["子", "妻"],
        "unregistered": False,
    }
    assert "detail.household.relationship" not in result.corrected_fields
    value["detail"]["household"]["relationship"] = "妻(未届)"
    result, decoded = through_std(REGISTRY, value)
    assert decoded["detail"]["household"]["relationship"]["display"] == "妻（未届）"
    assert decoded["detail"]["household"]["relationship"]["unregistered"] is True
    assert "detail.household.relationship" in result.corrected_fields


def test_corrected_fields_are_exactly_the_changed_paths() -> None:
    value = example(REGISTRY, "moved_in")
    value["detail"]["person"]["birth_date"] = "1980-04-01"
    result, decoded = through_std(REGISTRY, value)
    assert result.corrected_fields == ()
    assert decoded["std_meta"] == {
        "source_topic": REGISTRY,
        "source_partition": -1,
        "source_offset": -1,
        "corrected_fields": [],
        "standardized_at": "2026-10-20T18:00:00+09:00",
        "reference_version": None,
    }
    value["detail"]["person"]["given_name"] = "健一 "
    value["detail"]["person"]["family_name_kana"] = "たかはし"
    result, _ = through_std(REGISTRY, value)
    assert result.corrected_fields == (
        "detail.person.given_name",
        "detail.person.family_name_kana",
    )


def test_a_blank_reading_becomes_null() -> None:
    value = example(REGISTRY, "moved_in")
    value["detail"]["person"]["given_name_kana"] = " "
    result, decoded = through_std(REGISTRY, value)
    assert decoded["detail"]["person"]["given_name_kana"] is None
    assert "detail.person.given_name_kana" in result.corrected_fields


def test_stream_position_and_time_go_to_std_meta() -> None:
    source = decoded_source(CHECKUP, example(CHECKUP, "specific_meets_intensive"))
    result = standardize_event(
        CHECKUP, source, standardized_at=AT, source_partition=4, source_offset=1234
    )
    meta = result.value["std_meta"]
    assert (meta["source_partition"], meta["source_offset"]) == (4, 1234)
    assert meta["standardized_at"] == AT
    now = standardize_event(CHECKUP, source).value["std_meta"]["standardized_at"]
    assert now.tzinfo is not None


def test_care_level_is_canonical_with_its_rank() -> None:
    value = example(CARE, "care_level3_renewal_consent")
    value["care_level_code"] = "２３"
    value["care_level_name"] = "要介護３"
    result, decoded = through_std(CARE, value)
    assert (decoded["care_level_code"], decoded["care_level_name"]) == ("23", "要介護3")
    assert decoded["care_level_rank"] == 6
    assert result.corrected_fields == ("care_level_code", "care_level_name")


def test_intellectual_class_is_derived_from_the_printed_grade() -> None:
    value = example(CARE, "care_level3_renewal_consent")
    value["disability"]["intellectual_grade_original"] = "Ａ１"
    result, decoded = through_std(CARE, value)
    assert decoded["disability"]["intellectual_class"] == "severe"
    assert decoded["disability"]["intellectual_grade_original"] == "Ａ１"  # kept as printed
    assert result.corrected_fields == ("disability.intellectual_class",)


# ---- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("moved_in", "detail.previous_municipality_code"),
        ("moved_out", "detail.next_municipality_code"),
        ("moved_in", "municipality_code"),
    ],
)
def test_a_bad_municipality_code_is_refused_at_its_path(name: str, path: str) -> None:
    # Department systems may write without the SDK: the decoded datum is not format-checked.
    source = decoded_source(REGISTRY, example(REGISTRY, name))
    target = source["detail"] if path.startswith("detail.") else source
    target[path.rpartition(".")[2]] = "131017"  # 千代田区 is 131016: wrong check digit
    with pytest.raises(StandardizationError) as caught:
        standardize_event(REGISTRY, source)
    assert caught.value.reasons == [
        (path, "check digit does not match (全国地方公共団体コード の検査数字が不正)")
    ]
    assert "131017" not in str(caught.value)


def test_a_full_width_municipality_code_is_fixed() -> None:
    source = decoded_source(REGISTRY, example(REGISTRY, "moved_out"))
    source["detail"]["next_municipality_code"] = "１４１５２６"
    result = standardize_event(REGISTRY, source)
    assert result.value["detail"][1]["next_municipality_code"] == "141526"
    assert result.corrected_fields == ("detail.next_municipality_code",)


def _my_number() -> str:
    first = "37045612819"
    return first + str(my_number_check_digit(first))


@pytest.mark.parametrize(
    ("topic", "name", "path"),
    [
        (REGISTRY, "moved_in", "detail.previous_address_text"),
        (REGISTRY, "born", "detail.person.given_name"),
        (CHECKUP, "specific_meets_intensive", "examining_institution"),
    ],
)
def test_a_my_number_anywhere_is_refused_without_echoing_it(
    topic: str, name: str, path: str
) -> None:
    number = _my_number()
    source = decoded_source(topic, example(topic, name))
    *parents, leaf = path.split(".")
    target = source
    for part in parents:
        target = target[part]
    target[leaf] = f"{number[:4]}-{number[4:8]}-{number[8:]}"
    with pytest.raises(StandardizationError) as caught:
        standardize_event(topic, source)
    assert caught.value.reasons == [
        (path, "a 個人番号 (My Number) or 住民票コード must never be sent to Renkei; value refused")
    ]
    assert number[:4] not in str(caught.value)


def test_a_full_width_my_number_in_a_record_field_is_refused() -> None:
    number = _my_number().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    source = decoded_source(CARE, example(CARE, "support_level1_new"))
    source["disability"] = {
        "physical_grade": None,
        "intellectual_grade_original": number,
        "intellectual_class": None,
        "mental_grade": None,
        "intractable_disease": False,
    }
    with pytest.raises(StandardizationError) as caught:
        standardize_event(CARE, source)
    assert caught.value.reasons[0][0] == "disability.intellectual_grade_original"


def test_the_digit_prefilter_covers_every_character_that_normalizes_to_a_digit() -> None:
    missed = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if not 0xD800 <= code <= 0xDFFF
        and any("0" <= ch <= "9" for ch in unicodedata.normalize("NFKC", chr(code)))
        and not DIGIT_LIKE.search(chr(code))
    ]
    assert missed == []


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("birth_date", "昭和55年2月30日"),
        ("family_name_kana", "高橋"),
        ("sex", "X"),
    ],
)
def test_standardization_errors_carry_the_full_path(field: str, text: str) -> None:
    value = example(REGISTRY, "moved_in")
    value["detail"]["person"][field] = text
    error = refused(REGISTRY, value)
    assert error.reasons[0][0] == f"detail.person.{field}"
    assert text not in str(error)


def test_a_non_standard_relationship_is_refused_at_its_path() -> None:
    value = example(REGISTRY, "moved_within")
    value["detail"]["household"]["relationship"] = "孫"
    assert refused(REGISTRY, value).reasons[0][0] == "detail.household.relationship"


def test_an_unknown_address_is_refused_at_its_path() -> None:
    value = example(REGISTRY, "moved_within")
    value["detail"]["address"]["address_text"] = "どこでもない"
    value["detail"]["address"]["postal_code"] = None
    assert refused(REGISTRY, value).reasons[0][0].startswith("detail.address.")


def test_a_detail_of_another_event_type_is_refused() -> None:
    source = decoded_source(REGISTRY, example(REGISTRY, "born"))
    source["event_type"] = "moved_within"  # a Born detail holds every MovedWithin field
    with pytest.raises(StandardizationError) as caught:
        standardize_event(REGISTRY, source)
    assert caught.value.reasons[0][0] == "detail"


def test_care_level_name_must_match_the_code() -> None:
    value = example(CARE, "care_level3_renewal_consent")
    value["care_level_name"] = "要介護2"
    assert refused(CARE, value).reasons[0][0] == "care_level_name"


def test_a_bad_region_code_in_an_alert_is_refused_at_its_index() -> None:
    topic = "disaster.area.alerts"
    source = decoded_source(topic, example(topic, "flood_level4_issued"))
    source["target_region_codes"][1] = "141535:2520327"
    with pytest.raises(StandardizationError) as caught:
        standardize_event(topic, source)
    assert caught.value.reasons[0][0] == "target_region_codes.1"


def test_an_unknown_topic_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        standardize_event("std.registry.resident.events", {})


@pytest.mark.parametrize(
    "text",
    [
        "=cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "+cmd|' /C notepad'!A0",
        '＝HYPERLINK("http://x")',
        " =1+1",
    ],
)
def test_formula_like_text_is_refused(text: str) -> None:
    from renkei.normalize.errors import StandardizationError
    from renkei.stages.standardize.record_common import FORMULA_REASON, refuse_my_numbers

    with pytest.raises(StandardizationError) as caught:
        refuse_my_numbers({"detail": {"person": {"family_name": text}}})
    assert caught.value.reasons == [("detail.person.family_name", FORMULA_REASON)]


@pytest.mark.parametrize("text", ["-", "+81-90-1234-5678", "-3", "高橋", "A-1(2)"])
def test_ordinary_text_is_not_a_formula(text: str) -> None:
    from renkei.stages.standardize.record_common import refuse_my_numbers

    refuse_my_numbers({"note": text})
