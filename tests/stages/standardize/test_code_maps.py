"""Code maps (コード読替表): a source system's own codes translated before standardization,
loaded from deploy files and checked against the standard when the stage starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renkei.errors import ConfigurationError
from renkei.normalize.errors import StandardizationError
from renkei.stages.standardize.code_maps import CodeMaps, load_code_maps, parse_code_map
from renkei.stages.standardize.records import standardize_event
from tests.stages.standardize.test_records import decoded_source, example

REPO = Path(__file__).resolve().parents[3]
REGISTRY = "registry.resident.events"
CARE = "welfare.care.certifications"
CHECKUP = "health.checkup.results"
LEGACY = "jumin-kiroku-legacy"


def _maps(tmp_path: Path, text: str, name: str = "legacy.yaml") -> CodeMaps:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_code_maps(tmp_path)


def _moved_in(relationship: str, source: str = LEGACY) -> dict[str, Any]:
    value = example(REGISTRY, "moved_in")
    value["source_system"] = source
    value["detail"]["household"]["relationship"] = relationship
    return decoded_source(REGISTRY, value)


def test_a_mapped_word_standardizes_and_counts_as_corrected(tmp_path: Path) -> None:
    maps = _maps(tmp_path, f"source_system: {LEGACY}\nrelationship: {{孫: 子の子, 長男: 子}}\n")
    source = _moved_in("孫")
    result = standardize_event(REGISTRY, source, code_maps=maps)
    household = result.value["detail"][1]["household"]
    assert household["relationship"]["display"] == "子の子"
    assert household["relationship"]["chain"] == ["子", "子"]
    assert "detail.household.relationship" in result.corrected_fields
    assert source["detail"]["household"]["relationship"] == "孫"  # the input is not changed


def test_without_the_entry_or_for_another_system_the_record_is_refused(tmp_path: Path) -> None:
    maps = _maps(tmp_path, f"source_system: {LEGACY}\nrelationship: {{長男: 子}}\n")
    for source in (_moved_in("孫"), _moved_in("長男", source="other-vendor")):
        with pytest.raises(StandardizationError) as caught:
            standardize_event(REGISTRY, source, code_maps=maps)
        assert caught.value.field == "detail.household.relationship"
        assert caught.value.reason.startswith("kinship word not used by the standard")


def test_keys_match_after_nfkc_without_spaces(tmp_path: Path) -> None:
    maps = _maps(tmp_path, f"source_system: {LEGACY}\nrelationship: {{長男: 子}}\n")
    result = standardize_event(REGISTRY, _moved_in("長　男 "), code_maps=maps)
    assert result.value["detail"][1]["household"]["relationship"]["display"] == "子"


def test_sex_and_care_level_codes(tmp_path: Path) -> None:
    maps = _maps(
        tmp_path,
        "source_system: kaigo-legacy\ncare_level: {要介3: '23', 要介護３度: 要介護3}\n"
        "sex: {'3': '9'}\n",
    )
    care = example(CARE, "care_level3_renewal_consent")
    care.update(source_system="kaigo-legacy", care_level_code="要介3", care_level_name="要介護３度")
    result = standardize_event(CARE, decoded_source(CARE, care), code_maps=maps)
    assert (result.value["care_level_code"], result.value["care_level_name"]) == ("23", "要介護3")
    assert {"care_level_code", "care_level_name"} <= set(result.corrected_fields)
    checkup = example(CHECKUP, "specific_meets_intensive")
    checkup.update(source_system="kaigo-legacy", sex="3")
    with pytest.raises(StandardizationError):
        standardize_event(CHECKUP, decoded_source(CHECKUP, checkup))
    assert standardize_event(CHECKUP, decoded_source(CHECKUP, checkup), code_maps=maps)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("relationship: {孫: 子の子}\n", "'source_system'"),
        ("source_system: x\ncolour: {a: b}\n", "unknown keys colour"),
        (
            "source_system: x\nrelationship: {祖母: 祖母}\n",
            "relationship: 祖母 -> 祖母: not a value",
        ),
        ("source_system: x\nsex: {X: 7}\n", "sex: X -> 7: not a value the standard accepts"),
        ("source_system: x\ncare_level: {a: [1]}\n", "the target must be a text value"),
        ("source_system: x\nsex: [1, 2]\n", "a mapping of code -> standard value"),
        ("- just a list\n", "a YAML mapping"),
    ],
)
def test_a_bad_map_is_refused_at_startup(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _maps(tmp_path, text)
    assert problem in str(caught.value) and "legacy.yaml" in str(caught.value)


def test_two_files_for_one_system_and_a_missing_folder(tmp_path: Path) -> None:
    _maps(tmp_path, "source_system: x\n", "a.yaml")
    with pytest.raises(ConfigurationError, match="already mapped"):
        _maps(tmp_path, "source_system: x\n", "b.yml")
    assert not load_code_maps(tmp_path / "absent")
    assert not load_code_maps(None)


def test_the_shipped_code_map_loads() -> None:
    maps = load_code_maps(REPO / "deploy" / "code-maps")
    assert LEGACY in maps.by_source
    assert parse_code_map({"source_system": "s", "sex": {"3": "9"}}, "x").describe() == "sex 1"
