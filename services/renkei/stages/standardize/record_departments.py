"""Standardization of the checkup (健診), care (介護保険), alert (避難情報) and economy topics.

Checkups, alerts and indicators keep their values as sent, after the checks here. Care
certifications get the canonical 要介護状態区分 code and name, its rank, and the normalized
療育手帳 class when the department sent only the grade as printed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any, Final

from renkei.normalize.codes import CARE_LEVELS, CareLevels, normalize_care_level, normalize_sex
from renkei.normalize.errors import StandardizationError
from renkei.stages.standardize.record_common import (
    Corrections,
    finite,
    located,
    municipality_code,
    region_code,
    resident_key,
)

_CHECKUP_NUMBERS: Final = (
    "height_cm",
    "weight_kg",
    "bmi",
    "waist_cm",
    "hba1c_ngsp",
    "egfr",
)
# 療育手帳 grades as printed → normalized class (A/B systems, and Tokyo's 愛の手帳 1度–4度).
_INTELLECTUAL_CLASSES: Final = {
    "A": "severe",
    "A1": "severe",
    "A2": "severe",
    "1度": "severe",
    "2度": "severe",
    "B": "moderate",
    "B1": "moderate",
    "B2": "moderate",
    "3度": "moderate",
    "4度": "moderate",
}


def _envelope(value: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    out = dict(value)
    out["municipality_code"] = municipality_code(
        "municipality_code", value["municipality_code"], fixes
    )
    return out


def standardize_checkup(value: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    """A checkup result, checked: codes, resident key, sex code, finite measurements."""
    out = _envelope(value, fixes)
    resident_key("resident_key", value["resident_key"])
    located("sex", normalize_sex, value["sex"])
    for name in _CHECKUP_NUMBERS:
        finite(name, value[name])
    return out


def standardize_care(
    value: Mapping[str, Any], fixes: Corrections, levels: CareLevels = CARE_LEVELS
) -> dict[str, Any]:
    """A care certification with the canonical care level (code and name agree) and its rank;
    ``levels``: the care-level list in force (a reference release's ``care_level`` list)."""
    out = _envelope(value, fixes)
    resident_key("resident_key", value["resident_key"])

    def level(text: str) -> tuple[str, str, int]:
        return normalize_care_level(text, levels)

    code, name, rank = located("care_level_code", level, value["care_level_code"])
    _, _, name_rank = located("care_level_name", level, value["care_level_name"])
    if name_rank != rank:
        raise StandardizationError("care_level_name", "does not match care_level_code")
    fixes.note("care_level_code", value["care_level_code"], code)
    fixes.note("care_level_name", value["care_level_name"], name)
    out["care_level_code"] = code
    out["care_level_name"] = name
    out["care_level_rank"] = rank
    disability = value["disability"]
    if disability is not None:
        out["disability"] = _disability(disability, fixes)
    return out


def _disability(d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    out = dict(d)
    original = d["intellectual_grade_original"]
    if d["intellectual_class"] is None and original is not None:
        grade = "".join(unicodedata.normalize("NFKC", original).split()).upper()
        klass = _INTELLECTUAL_CLASSES.get(grade)
        fixes.note("disability.intellectual_class", None, klass)
        out["intellectual_class"] = klass
    return out


def standardize_alert(value: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    """An evacuation alert, checked: municipality code and every region code."""
    out = _envelope(value, fixes)
    region_code("area_code", value["area_code"])
    for index, code in enumerate(value["target_region_codes"]):
        region_code(f"target_region_codes.{index}", code)
    return out


def standardize_indicators(value: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    """Regional indicators, checked: codes and finite values."""
    out = _envelope(value, fixes)
    region_code("region_code", value["region_code"])
    for index, indicator in enumerate(value["indicators"]):
        finite(f"indicators.{index}.value", indicator["value"])
    return out
