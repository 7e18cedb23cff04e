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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from renkei.errors import ConfigurationError
from renkei.stages.standardize.record_common import Corrections, refuse_my_numbers
from renkei.stages.standardize.record_departments import (
    standardize_alert,
    standardize_care,
    standardize_checkup,
    standardize_indicators,
)
from renkei.stages.standardize.record_registry import ReferenceSource, RegistryStandardizer

if TYPE_CHECKING:
    from renkei.normalize.addresses import AddressIndex
    from renkei.reference.snapshot import ReferenceSnapshot
    from renkei.stages.standardize.code_maps import CodeMaps

DepartmentStep = Callable[[Mapping[str, Any], Corrections], dict[str, Any]]
"""``step(value, fixes)``: the ``std.<topic>`` datum of one department datum (without
``std_meta``), noting each corrected path in ``fixes``; raises StandardizationError."""

REGISTRY: Final = "registry.resident.events"
CARE: Final = "welfare.care.certifications"
DEPARTMENT_STEPS: Final[Mapping[str, DepartmentStep]] = MappingProxyType(
    {
        "health.checkup.results": standardize_checkup,
        "welfare.care.certifications": standardize_care,
        "disaster.area.alerts": standardize_alert,
        "economy.region.indicators": standardize_indicators,
    }
)
"""The steps of the department topics other than 住民記録 (whose step needs the address index).
A new department topic brings its own step to the stage (``build_standardize(steps=...)``)."""


def known_topics(steps: Mapping[str, DepartmentStep] | None = None) -> tuple[str, ...]:
    """The department topics with a step (built in, plus ``steps``)."""
    return tuple(sorted({REGISTRY, *DEPARTMENT_STEPS, *(steps or {})}))


@dataclass(frozen=True, slots=True)
class StdResult:
    """The ``std.<topic>`` datum (ready for fastavro's writer) and the paths standardization
    changed (the same list as ``value["std_meta"]["corrected_fields"]``)."""

    value: dict[str, Any]
    corrected_fields: tuple[str, ...]


def standardize_event(
    topic: str,
    value: Mapping[str, Any],
    *,
    standardized_at: dt.datetime | None = None,
    source_partition: int = -1,
    source_offset: int = -1,
    address_index: AddressIndex | None = None,
    code_maps: CodeMaps | None = None,
    steps: Mapping[str, DepartmentStep] | None = None,
    registry: RegistryStandardizer | None = None,
    reference_version: str | None = None,
) -> StdResult:
    """Standardize ``value``, a decoded datum of the department topic ``topic``.

    ``standardized_at`` defaults to now (UTC); ``source_partition`` / ``source_offset`` go to
    ``std_meta`` (-1 when the record did not come from a stream); ``address_index`` is the
    postal master data (None: the default index); ``code_maps`` translate a source system's
    own codes first (``code_maps.py``); ``steps`` adds the steps of department topics that are
    not built in; ``registry`` is the 住民記録 step to use (one bound to a reference release);
    ``reference_version`` names that release in ``std_meta``. Raises ``StandardizationError``
    for a bad record and ``ConfigurationError`` for a topic with no step.
    """
    step: DepartmentStep = (
        registry
        if registry is not None and topic == REGISTRY
        else _step(topic, address_index, steps)
    )
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
        "reference_version": reference_version,
    }
    return StdResult(out, corrected)


def _step(
    topic: str, address_index: AddressIndex | None, steps: Mapping[str, DepartmentStep] | None
) -> DepartmentStep:
    if steps and topic in steps:
        return steps[topic]
    if topic == REGISTRY:
        return _registry(address_index) if address_index is not None else _default_registry()
    step = DEPARTMENT_STEPS.get(topic)
    if step is None:
        raise ConfigurationError(
            f"no standardization step for topic {topic!r}; steps exist for: "
            f"{', '.join(known_topics(steps))}"
        )
    return step


class Standardizer:
    """``standardize_event`` bound to the stage's steps, code maps and reference data:
    ``(topic, value)`` → :class:`StdResult`.

    ``reference`` returns the reference release in force (the stage's replicated ``ref.*``
    table); each event is standardized with the release it returns at that moment, and
    ``std_meta.reference_version`` names it.
    """

    def __init__(
        self,
        steps: Mapping[str, DepartmentStep] | None = None,
        *,
        code_maps: CodeMaps | None = None,
        address_index: AddressIndex | None = None,
        reference: ReferenceSource | None = None,
    ):
        self.steps = dict(steps or {})
        self.code_maps = code_maps
        self.address_index = address_index
        self.reference = reference
        self._pinned: ReferenceSnapshot | None = None
        self._registry = (
            RegistryStandardizer(address_index, reference=self._current)
            if reference is not None
            else None
        )

    def _current(self) -> ReferenceSnapshot | None:
        return self._pinned

    def check_topics(self, topics: Iterable[str]) -> None:
        """ConfigurationError unless every one of ``topics`` has a step."""
        missing = sorted(set(topics) - set(known_topics(self.steps)))
        if missing:
            raise ConfigurationError(
                f"department topic(s) {', '.join(missing)} have no standardization step: "
                "give the stage one (docs/design/adding-a-department.md)"
            )

    def __call__(self, topic: str, value: Mapping[str, Any]) -> StdResult:
        # One release for the whole event: a release arriving meanwhile applies to the next.
        self._pinned = self.reference() if self.reference is not None else None
        steps = self.steps
        if self._pinned is not None and topic == CARE and topic not in self.steps:
            steps = {**self.steps, CARE: _care_step(self._pinned)}
        return standardize_event(
            topic,
            value,
            address_index=self.address_index,
            code_maps=self.code_maps,
            steps=steps,
            registry=self._registry,
            reference_version=self._pinned.version if self._pinned is not None else None,
        )


def _care_step(snapshot: ReferenceSnapshot) -> DepartmentStep:
    """The care step with the ``care_level`` list of ``snapshot`` (the built-in list when the
    release has none)."""
    levels = _release_care_levels(snapshot.release.code_lists.get("care_level"))

    def step(value: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        return standardize_care(value, fixes, levels)

    return step


def _release_care_levels(code_list: Any) -> tuple[tuple[str, str], ...]:
    from renkei.normalize.codes import CARE_LEVELS

    if code_list is None or not code_list.entries:
        return CARE_LEVELS
    return tuple((entry.code, entry.name) for entry in code_list.entries)


@lru_cache(maxsize=1)
def _default_registry() -> RegistryStandardizer:
    return RegistryStandardizer()


def _registry(address_index: AddressIndex) -> RegistryStandardizer:
    return RegistryStandardizer(address_index)
