"""Code maps (コード読替表): a department system's own codes → the standard's, per source system.

Legacy systems write coded values their own way: 続柄 as 長男 or 孫 where the 住民記録 standard
writes 子 and 子の子, a sex code 3 for "not recorded", care levels as local abbreviations. The
standardize stage refuses what it does not know (the record goes to ``dlq.<topic>``). A code map
is how a municipality tells the stage what such a value means for ONE source system, without a
code change: a YAML file in ``deploy/code-maps/`` (``RENKEI_CODE_MAPS_DIR``), read when the
stage starts::

    source_system: jumin-kiroku-legacy     # the events' source_system field
    relationship: {孫: 子の子, 長男: 子}     # 続柄 as the system writes it -> the standard's
    sex: {"3": "9"}
    care_level: {要介1: "21"}

The map runs before standardization, and what it produces is standardized and checked like any
value (a map to a word the standard does not know still fails). Keys match after NFKC with
spaces removed (``長 男`` and ``長男`` are one key). A mapped field counts as corrected.

After changing a map, restart the standardize stage and replay the DLQ (docs/dlq.md): the
records keep their bytes, the stage now reads them differently.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

import yaml

from renkei.errors import ConfigurationError
from renkei.normalize.codes import normalize_care_level, normalize_sex, parse_relationship
from renkei.normalize.errors import StandardizationError
from renkei.stages.standardize.record_common import Corrections

log = logging.getLogger(__name__)

CodeKind = Literal["sex", "relationship", "care_level"]
KINDS: Final[tuple[CodeKind, ...]] = get_args(CodeKind)
_CHECKS: Final[dict[CodeKind, Callable[[str], object]]] = {
    "sex": normalize_sex,
    "relationship": parse_relationship,
    "care_level": normalize_care_level,
}
# Where each kind sits in each department topic (dotted path; a None on the way: nothing).
FIELDS: Final[dict[str, tuple[tuple[str, CodeKind], ...]]] = {
    "registry.resident.events": (
        ("detail.person.sex", "sex"),
        ("detail.household.relationship", "relationship"),
    ),
    "health.checkup.results": (("sex", "sex"),),
    "welfare.care.certifications": (
        ("care_level_code", "care_level"),
        ("care_level_name", "care_level"),
    ),
}


def code_key(text: str) -> str:
    """The lookup form of a code: NFKC with every whitespace character removed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class CodeMap:
    """The map of one source system: kind → (code key → standard value)."""

    source_system: str
    entries: Mapping[CodeKind, Mapping[str, str]]
    path: Path | None = None

    def translate(self, kind: CodeKind, text: str) -> str | None:
        """The standard value ``text`` stands for, or None when the map does not say."""
        return self.entries.get(kind, {}).get(code_key(text))

    def describe(self) -> str:
        """``relationship 3, sex 1`` — how many entries per kind (codes are not printed)."""
        return ", ".join(f"{kind} {len(codes)}" for kind, codes in self.entries.items() if codes)


@dataclass(frozen=True)
class CodeMaps:
    """Every source system's map; empty when the folder holds none."""

    by_source: Mapping[str, CodeMap] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_source)

    def apply(self, topic: str, value: Mapping[str, Any], fixes: Corrections) -> Mapping[str, Any]:
        """``value`` with the mapped codes of its source system replaced (a shallow copy along
        each changed path; ``value`` itself untouched). Changed paths are noted in ``fixes``."""
        code_map = self.by_source.get(str(value.get("source_system")))
        if code_map is None:
            return value
        out: Mapping[str, Any] = value
        for path, kind in FIELDS.get(topic, ()):
            out = _replace_at(out, path.split("."), _translator(code_map, kind))
            fixes.note(path, _get(value, path), _get(out, path))
        return out


def _translator(code_map: CodeMap, kind: CodeKind) -> Callable[[str], str | None]:
    def translate(text: str) -> str | None:
        return code_map.translate(kind, text)

    return translate


def _get(value: Mapping[str, Any] | None, path: str) -> Any:
    current: Any = value
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _replace_at(
    value: Mapping[str, Any], parts: list[str], translate: Callable[[str], str | None]
) -> Mapping[str, Any]:
    """``value`` with the string at ``parts`` translated (copies only the dicts on the path)."""
    head, rest = parts[0], parts[1:]
    child = value.get(head)
    if rest:
        if not isinstance(child, Mapping):
            return value
        new_child: Any = _replace_at(child, rest, translate)
    else:
        if not isinstance(child, str):
            return value
        new_child = translate(child)
        if new_child is None:
            return value
    if new_child is child:
        return value
    copied = dict(value)
    copied[head] = new_child
    return copied


def parse_code_map(raw: Any, where: str) -> CodeMap:
    """A code map from its YAML content; ConfigurationError naming ``where`` and the problem.

    Every target must be a value the standard accepts for its kind (checked here, at startup,
    rather than record by record).
    """
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where}: a code map is a YAML mapping")
    source = raw.get("source_system")
    if not isinstance(source, str) or not source:
        raise ConfigurationError(f"{where}: 'source_system' (the events' source_system) missing")
    unknown = sorted(set(raw) - {"source_system", *KINDS})
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown keys {', '.join(unknown)}; code kinds are {', '.join(KINDS)}"
        )
    entries: dict[CodeKind, dict[str, str]] = {}
    for kind in KINDS:
        codes = raw.get(kind) or {}
        if not isinstance(codes, dict):
            raise ConfigurationError(f"{where}: {kind}: a mapping of code -> standard value")
        entries[kind] = {code_key(str(k)): _checked(kind, k, v, where) for k, v in codes.items()}
    return CodeMap(source_system=source, entries=entries)


def _checked(kind: CodeKind, code: Any, target: Any, where: str) -> str:
    if target is None or isinstance(target, bool | dict | list):
        raise ConfigurationError(f"{where}: {kind}: {code!s}: the target must be a text value")
    text = str(target)
    try:
        _CHECKS[kind](text)
    except StandardizationError as exc:
        raise ConfigurationError(
            f"{where}: {kind}: {code!s} -> {text}: not a value the standard accepts ({exc.reason})"
        ) from None
    return text


def load_code_maps(folder: Path | None) -> CodeMaps:
    """Every ``*.yaml`` / ``*.yml`` of ``folder`` (none when it does not exist or is None).

    Raises ConfigurationError for an unreadable or invalid file, or two files for one system.
    """
    if folder is None or not folder.is_dir():
        return CodeMaps()
    maps: dict[str, CodeMap] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"{path}: cannot read the code map: {exc}") from exc
        code_map = parse_code_map(raw, str(path))
        if code_map.source_system in maps:
            other = maps[code_map.source_system].path
            raise ConfigurationError(
                f"{path}: source_system {code_map.source_system!r} already mapped in {other}"
            )
        maps[code_map.source_system] = CodeMap(code_map.source_system, code_map.entries, path)
    return CodeMaps(maps)
