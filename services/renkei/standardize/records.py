"""Standardize one department event into the datum of its ``std.<topic>`` (標準化 of a record).

``standardize_event(topic, value)`` takes a source datum as fastavro decodes it (dates as
``datetime.date``, timestamps as aware ``datetime``, the resident ``detail`` union as a plain
dict) and returns the datum for fastavro's writer of ``std.<topic>``: same field names,
canonical values, the ``detail`` union in tuple notation ``(record fullname, dict)``, and
``std_meta``. ``StdResult.corrected_fields`` (also in ``std_meta``) lists the dotted paths whose
value changed.

Every string of the source is first checked for a 個人番号 (My Number); any value that cannot
be standardized raises :class:`StandardizationError` located at its full dotted path, with a
reason that never contains the value. The stage turns those into DLQ records.

Per-topic steps live in ``record_registry`` (住民記録) and ``record_departments`` (健診, 介護,
避難情報, 経済指標); shared checks in ``record_common``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from renkei.errors import ConfigurationError
from renkei.standardize.record_common import Corrections, refuse_my_numbers
from renkei.standardize.record_departments import (
    standardize_alert,
    standardize_care,
    standardize_checkup,
    standardize_indicators,
)
from renkei.standardize.record_registry import RegistryStandardizer

if TYPE_CHECKING:
    from renkei.standardize.addresses import AddressIndex
    from renkei.standardize.code_maps import CodeMaps

Step = Callable[[Mapping[str, Any], Corrections], dict[str, Any]]

STD_PREFIX: Final = "std."
REGISTRY: Final = "registry.resident.events"
SOURCE_TOPICS: Final = (
    REGISTRY,
    "health.checkup.results",
    "welfare.care.certifications",
    "disaster.area.alerts",
    "economy.region.indicators",
)
_DEPARTMENT_STEPS: Final[dict[str, Step]] = {
    "health.checkup.results": standardize_checkup,
    "welfare.care.certifications": standardize_care,
    "disaster.area.alerts": standardize_alert,
    "economy.region.indicators": standardize_indicators,
}


@dataclass(frozen=True, slots=True)
class StdResult:
    """The ``std.<topic>`` datum (ready for fastavro's writer) and the paths standardization
    changed (the same list as ``value["std_meta"]["corrected_fields"]``)."""

    value: dict[str, Any]
    corrected_fields: tuple[str, ...]


def std_topic(topic: str) -> str:
    """The standardized topic of a department topic: ``std.<topic>``."""
    return f"{STD_PREFIX}{topic}"


def standardize_event(
    topic: str,
    value: Mapping[str, Any],
    *,
    standardized_at: dt.datetime | None = None,
    source_partition: int = -1,
    source_offset: int = -1,
    address_index: AddressIndex | None = None,
    code_maps: CodeMaps | None = None,
) -> StdResult:
    """Standardize ``value``, a decoded datum of the department topic ``topic``.

    ``standardized_at`` defaults to now (UTC); ``source_partition`` / ``source_offset`` go to
    ``std_meta`` (-1 when the record did not come from a stream); ``address_index`` is the
    postal master data (None: the default index); ``code_maps`` translate a source system's
    own codes first (``standardize/code_maps.py``). Raises ``StandardizationError`` for a bad
    record and ``ConfigurationError`` for a topic that is not a department topic.
    """
    step = _step(topic, address_index)
    refuse_my_numbers(value)
    fixes = Corrections()
    if code_maps:
        value = code_maps.apply(topic, value, fixes)
    out = step(value, fixes)
    corrected = tuple(fixes.paths)
    out["std_meta"] = {
        "source_topic": topic,
        "source_partition": source_partition,
        "source_offset": source_offset,
        "corrected_fields": list(corrected),
        "standardized_at": standardized_at or dt.datetime.now(dt.UTC),
    }
    return StdResult(out, corrected)


def _step(topic: str, address_index: AddressIndex | None) -> Step:
    if topic == REGISTRY:
        return _registry(address_index) if address_index is not None else _default_registry()
    step = _DEPARTMENT_STEPS.get(topic)
    if step is None:
        raise ConfigurationError(
            f"no standardization for topic {topic!r}; department topics: {', '.join(SOURCE_TOPICS)}"
        )
    return step


@lru_cache(maxsize=1)
def _default_registry() -> RegistryStandardizer:
    return RegistryStandardizer()


def _registry(address_index: AddressIndex) -> RegistryStandardizer:
    return RegistryStandardizer(address_index)
