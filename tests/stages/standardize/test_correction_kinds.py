"""Correction kinds: from field names and the shape of the source text, never its value."""

from __future__ import annotations

import pytest

from renkei.stages.standardize.correction_kinds import (
    KINDS,
    correction_kind,
    correction_kinds,
    source_value,
)
from renkei.stages.standardize.records import standardize_event


@pytest.mark.parametrize(
    ("path", "before", "kind"),
    [
        ("detail.person.birth_date", "昭和30年1月2日", "wareki_date"),
        ("detail.person.birth_date", "S30.01.02", "wareki_date"),
        ("detail.person.birth_date", "3300102", "wareki_date"),  # digit-coded era
        ("detail.person.birth_date", "1955/1/2", "date_format"),
        ("detail.person.birth_date", "１９５５年１月２日", "date_format"),
        ("detail.person.family_name_kana", "ﾔﾏﾀﾞ", "kana_width"),
        ("detail.person.family_name_kana", "やまだ", "kana_script"),
        ("detail.person.given_name_kana", "  ", "kana_blank"),
        ("detail.person.given_name_kana", None, "kana_blank"),
        ("detail.person.family_name", "山田　", "name_text"),
        ("detail.address.address_text", "x", "address_text"),
        ("detail.address.postal_code", None, "postal_code"),
        ("municipality_code", "０１１０１１", "municipality_code"),
        ("care_level_code", "要介護2", "code_mapped"),
        ("detail.person.sex", "男", "code_mapped"),
        ("detail.household.relationship", "妻", "relationship"),
        ("somewhere.new_field", "x", "other"),
    ],
)
def test_kind(path: str, before: object, kind: str) -> None:
    assert correction_kind(path, before) == kind
    assert kind in KINDS


def test_source_value_follows_dotted_paths() -> None:
    value = {"detail": {"person": {"birth_date": "S30.1.2"}}, "items": [{"v": 1}]}
    assert source_value(value, "detail.person.birth_date") == "S30.1.2"
    assert source_value(value, "items.0.v") == 1
    assert source_value(value, "items.5.v") is None
    assert source_value(value, "detail.nothing.here") is None


def test_kinds_of_a_real_standardization(catalogue) -> None:  # type: ignore[no-untyped-def]
    """A catalogue example standardized for real: every corrected path gets a known kind."""
    value = dict(catalogue.get("registry.resident.events").examples["moved_in"])
    from renkei.schemas.jsonform import to_datum
    from renkei.schemas.models import RecordValidator

    schema = catalogue.get("registry.resident.events").schema
    datum = to_datum(schema, RecordValidator(schema).validate(value))
    datum["detail"] = datum["detail"][1] if isinstance(datum["detail"], tuple) else datum["detail"]
    datum["detail"]["person"]["birth_date"] = "昭和30年1月2日"
    result = standardize_event("registry.resident.events", datum)
    kinds = list(correction_kinds(datum, result.corrected_fields))
    assert "wareki_date" in kinds
    assert all(k in KINDS for k in kinds)
