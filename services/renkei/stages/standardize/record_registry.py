"""Standardization of ``registry.resident.events`` (住民記録 resident registry) into
``std.registry.resident.events``.

Person: names NFKC with one full-width space, kana in full-width katakana (an empty reading
becomes null), birth date (和暦 or 西暦 text) as a date, sex as male / female / unknown.
Household: 続柄 split into display, base, chain and unregistered. Address: split with the
postal master data into a ``StdAddress``; with a reference release (``ref.*`` topics), with the
codes in force on the event's ``effective_date`` and today's successor codes
(``renkei.reference.snapshot``). Everything else is checked and copied.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from renkei.normalize.addresses import StdAddress, standardize_address
from renkei.normalize.codes import normalize_sex, parse_relationship
from renkei.normalize.dates import parse_date
from renkei.normalize.errors import StandardizationError
from renkei.normalize.names import normalize_kana, normalize_name
from renkei.reference.snapshot import ReferenceSnapshot, resolve_address
from renkei.stages.standardize.record_common import (
    Corrections,
    located,
    municipality_code,
    nfkc_text,
    optional_municipality_code,
    postal_code,
    resident_key,
)

if TYPE_CHECKING:
    from renkei.normalize.addresses import AddressIndex

NAMESPACE: Final = "jp.renkei.std.registry"
# The sex codes of the source schema: mapping them to the enum is no correction.
_SEX_CODES: Final = {"1": "male", "2": "female", "9": "unknown", "0": "unknown"}


ADDRESS_CACHE_SIZE = 65_536
"""Distinct (address text, postal code) pairs remembered per standardizer (~1 kB each)."""

ReferenceSource = Callable[[], ReferenceSnapshot | None]
"""The reference release in force now (the stage's replicated ``ref.*`` table), or None."""


class RegistryStandardizer:
    """Standardizes resident events; ``index`` is the postal master data (None: the default);
    ``reference`` gives the reference release to use, read once per event (when it gives one,
    addresses are resolved with it and ``index`` is not used)."""

    def __init__(
        self, index: AddressIndex | None = None, reference: ReferenceSource | None = None
    ) -> None:
        self._index = index
        self._reference = reference
        self._on: dt.date | None = None
        self._snapshot: ReferenceSnapshot | None = None
        # One resolution per distinct (text, postal code): a city's records repeat a few
        # thousand addresses (households, re-sent profiles), and resolution is half of the
        # step's time. StdAddress is frozen; errors are not cached (rare, and re-raised fresh).
        # The cache lives with this standardizer and its index: a new index, a new cache.
        self._resolve = functools.lru_cache(maxsize=ADDRESS_CACHE_SIZE)(self._resolve_address)
        self._branches: dict[str, Callable[[Mapping[str, Any], Corrections], dict[str, Any]]] = {
            "moved_in": self._moved_in,
            "moved_out": self._moved_out,
            "moved_within": self._moved_within,
            "born": self._born,
            "died": _copy,
            "household_changed": self._household_changed,
            "corrected": self._corrected,
            "protection_set": _copy,
            "protection_lifted": _copy,
        }

    def _resolve_address(self, text: str, postal: str | None) -> StdAddress:
        if self._index is None:
            return standardize_address(text, postal)
        return standardize_address(text, postal, index=self._index)

    def __call__(self, value: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        out = dict(value)
        out["municipality_code"] = municipality_code(
            "municipality_code", value["municipality_code"], fixes
        )
        resident_key("resident_key", value["resident_key"])
        self._snapshot = self._reference() if self._reference is not None else None
        effective = value.get("effective_date")
        self._on = effective if isinstance(effective, dt.date) else None
        event_type = value["event_type"]
        detail = value["detail"]
        if not _branch_matches(event_type, detail):
            raise StandardizationError("detail", "record type does not match event_type")
        standardized = self._branches[event_type](detail, fixes)
        out["detail"] = (BRANCH_NAMES[event_type], standardized)
        return out

    # ---- branches ------------------------------------------------------------------------
    def _moved_in(self, d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        out = dict(d)
        out["person"] = person("detail.person", d["person"], fixes)
        out["address"] = self.address("detail.address", d["address"], fixes)
        out["household"] = household("detail.household", d["household"], fixes)
        out["previous_municipality_code"] = optional_municipality_code(
            "detail.previous_municipality_code", d["previous_municipality_code"], fixes
        )
        return out

    def _moved_out(self, d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        out = dict(d)
        out["next_municipality_code"] = optional_municipality_code(
            "detail.next_municipality_code", d["next_municipality_code"], fixes
        )
        return out

    def _moved_within(self, d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        out = dict(d)
        out["address"] = self.address("detail.address", d["address"], fixes)
        out["household"] = household("detail.household", d["household"], fixes)
        return out

    def _born(self, d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        out = dict(d)
        out["person"] = person("detail.person", d["person"], fixes)
        out["address"] = self.address("detail.address", d["address"], fixes)
        out["household"] = household("detail.household", d["household"], fixes)
        return out

    def _household_changed(self, d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        out = dict(d)
        out["household"] = household("detail.household", d["household"], fixes)
        return out

    def _corrected(self, d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        out = dict(d)
        if d["person"] is not None:
            out["person"] = person("detail.person", d["person"], fixes)
        if d["address"] is not None:
            out["address"] = self.address("detail.address", d["address"], fixes)
        if d["household"] is not None:
            out["household"] = household("detail.household", d["household"], fixes)
        return out

    # ---- address -------------------------------------------------------------------------
    def address(self, path: str, a: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
        """``StdAddress`` of a source ``Address`` (the postal code is filled in when absent)."""
        source_text = a["address_text"]
        text = nfkc_text(source_text)
        if text is None:
            raise StandardizationError(f"{path}.address_text", "empty")
        postal = postal_code(f"{path}.postal_code", a["postal_code"], fixes)
        current_code: str | None = None
        current_region: str | None = None
        try:
            if self._snapshot is not None:
                on = self._on or dt.date.today()
                resolved = resolve_address(text, postal, on, self._snapshot)
                std = resolved.address
                current_code = resolved.current_municipality_code
                current_region = resolved.current_region_code
            else:
                std = self._resolve(text, postal)
        except StandardizationError as exc:
            leaf = "postal_code" if "postal" in exc.field else "address_text"
            raise exc.at(f"{path}.{leaf}") from None
        fixes.note(f"{path}.address_text", source_text, text)
        fixes.note(f"{path}.postal_code", postal, std.postal_code)
        building = nfkc_text(a["building"]) if a["building"] is not None else std.building
        fixes.note(f"{path}.building", a["building"], building)
        return {
            "address_text": text,
            "prefecture": std.prefecture,
            "city": std.city,
            "town": std.town,
            "chome": std.chome,
            "rest": std.rest,
            "building": building,
            "postal_code": std.postal_code,
            "municipality_code": std.municipality_code,
            "region_code": std.region_code,
            "current_municipality_code": current_code,
            "current_region_code": current_region,
        }


# ---- person and household ----------------------------------------------------------------
def person(path: str, p: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    """The standardized ``Person``."""
    out = dict(p)
    out["family_name"] = fixes.apply(f"{path}.family_name", p["family_name"], normalize_name)
    out["given_name"] = fixes.apply(f"{path}.given_name", p["given_name"], normalize_name)
    for field in ("family_name_kana", "given_name_kana"):
        out[field] = kana(f"{path}.{field}", p[field], fixes)
    out["birth_date"] = birth_date(f"{path}.birth_date", p["birth_date"], fixes)
    sex_text = p["sex"]
    sex = located(f"{path}.sex", normalize_sex, sex_text)
    fixes.note(f"{path}.sex", _SEX_CODES.get(sex_text, sex_text), sex)
    out["sex"] = sex
    return out


def kana(path: str, text: str | None, fixes: Corrections) -> str | None:
    """Full-width katakana; a blank reading (foreign residents often have none) is null."""
    if text is None or not text.strip():
        fixes.note(path, text, None)
        return None
    return fixes.apply(path, text, normalize_kana)


def birth_date(path: str, text: str, fixes: Corrections) -> dt.date:
    """The date; noted as corrected unless the source already wrote it as ISO 8601."""
    date = located(path, parse_date, text)
    fixes.note(path, text, date.isoformat())
    return date


def household(path: str, h: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    """The standardized ``Household`` with its 続柄 as a ``Relationship`` record."""
    text = h["relationship"]
    relation = located(f"{path}.relationship", parse_relationship, text)
    fixes.note(f"{path}.relationship", text, relation.display)
    out = dict(h)
    out["relationship"] = {
        "display": relation.display,
        "base": relation.base,
        "chain": list(relation.chain),
        "unregistered": relation.unregistered,
    }
    return out


def _copy(d: Mapping[str, Any], fixes: Corrections) -> dict[str, Any]:
    return dict(d)


# ---- branches of the detail union -----------------------------------------------------------
_BRANCH_FIELDS: Final[dict[str, tuple[str, frozenset[str]]]] = {
    "moved_in": (
        "MovedIn",
        frozenset(
            {
                "person",
                "address",
                "household",
                "previous_municipality_code",
                "previous_address_text",
                "from_abroad",
            }
        ),
    ),
    "moved_out": (
        "MovedOut",
        frozenset({"next_municipality_code", "next_address_text", "to_abroad", "planned_date"}),
    ),
    "moved_within": ("MovedWithin", frozenset({"address", "household"})),
    "born": ("Born", frozenset({"person", "address", "household", "birth_place"})),
    "died": ("Died", frozenset({"date_of_death", "place_of_death"})),
    "household_changed": ("HouseholdChanged", frozenset({"household", "change_kind"})),
    "corrected": (
        "Corrected",
        frozenset({"supersedes_event_id", "corrected_fields", "person", "address", "household"}),
    ),
    "protection_set": ("ProtectionSet", frozenset({"measure", "valid_until"})),
    "protection_lifted": ("ProtectionLifted", frozenset({"lifted_reason"})),
}
BRANCH_NAMES: Final[dict[str, str]] = {
    tag: f"{NAMESPACE}.{name}" for tag, (name, _) in _BRANCH_FIELDS.items()
}
# Branches whose fields include all of another's (Born ⊃ MovedWithin): a detail holding the
# larger set is the larger branch, whatever event_type says.
_LARGER: Final[dict[str, tuple[frozenset[str], ...]]] = {
    tag: tuple(other for _, other in _BRANCH_FIELDS.values() if fields < other)
    for tag, (_, fields) in _BRANCH_FIELDS.items()
}


def _branch_matches(event_type: str, detail: Any) -> bool:
    """Whether the decoded ``detail`` (a plain dict) is the record ``event_type`` selects."""
    if event_type not in _BRANCH_FIELDS or not isinstance(detail, Mapping):
        return False
    keys = detail.keys()
    if not _BRANCH_FIELDS[event_type][1] <= keys:
        return False
    return not any(larger <= keys for larger in _LARGER[event_type])
