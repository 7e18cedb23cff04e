"""Kinds of corrections standardization made, for ``renkei_standardize_corrections_total``.

``StdResult.corrected_fields`` lists the dotted paths whose value changed; a kind is derived
from the field's name and, for dates and kana, from the shape of the source text (era
notation, half-width kana). Kinds are a closed vocabulary: no value, name or key ever becomes
a label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

KINDS: Final = (
    "wareki_date",
    "date_format",
    "name_text",
    "kana_width",
    "kana_script",
    "kana_blank",
    "address_text",
    "postal_code",
    "building",
    "municipality_code",
    "code_mapped",
    "relationship",
    "other",
)
_ERA = re.compile(r"明治|大正|昭和|平成|令和|[明大昭平令]|^\s*[MTSHRmtshr]|^\s*[1-5][0-9]{6}\s*$")
_HALF_WIDTH_KANA = re.compile("[\uff66-\uff9f]")
_HIRAGANA = re.compile("[\u3041-\u3096]")
_BY_LEAF: Final = {
    "family_name": "name_text",
    "given_name": "name_text",
    "address_text": "address_text",
    "postal_code": "postal_code",
    "building": "building",
    "municipality_code": "municipality_code",
    "sex": "code_mapped",
    "care_level_code": "code_mapped",
    "care_level_name": "code_mapped",
    "intellectual_class": "code_mapped",
    "relationship": "relationship",
}


def correction_kind(path: str, before: Any) -> str:
    """The kind of the correction at ``path`` whose source value was ``before``."""
    leaf = path.rsplit(".", 1)[-1]
    if leaf.endswith("_date"):
        text = unicodedata.normalize("NFKC", before) if isinstance(before, str) else ""
        return "wareki_date" if _ERA.search(text) else "date_format"
    if leaf.endswith("_kana"):
        if not isinstance(before, str) or not before.strip():
            return "kana_blank"
        if _HALF_WIDTH_KANA.search(before):
            return "kana_width"
        return "kana_script" if _HIRAGANA.search(before) else "name_text"
    return _BY_LEAF.get(leaf, "other")


def source_value(value: Mapping[str, Any], path: str) -> Any:
    """The value at dotted ``path`` of a decoded source datum (None when absent)."""
    current: Any = value
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, Sequence) and not isinstance(current, str) and part.isdigit():
            index = int(part)
            current = current[index] if index < len(current) else None
        else:
            return None
    return current


def correction_kinds(value: Mapping[str, Any], corrected: Sequence[str]) -> Iterator[str]:
    """The kind of each corrected path of the source datum ``value``."""
    for path in corrected:
        yield correction_kind(path, source_value(value, path))
