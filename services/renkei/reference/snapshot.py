"""One reference release ready to serve: its code table and address indexes, and resolving an
address on a date.

:func:`resolve_address` is a pure function of (text, postal code, date, snapshot): a snapshot
never changes once built (a new release is a new snapshot), so a cache may key its answers by
``(snapshot.version, text, postal_code, date)``.

How an address is resolved on the event's date ``on``:

1. against today's postal rows, names as written; when that finds no municipality or 町域
   (the text names one that no longer exists: 浜松市中区) or refuses it, against the rows of
   retired municipalities; then with a retired municipality's name replaced by its successor's
   (筑紫郡那珂川町 → 那珂川市) and, last, allowing one typo in the 町域 name;
2. the code in force on ``on`` for the area found (:meth:`Municipalities.code_on`): an event
   of 2023 in 浜松市中区 keeps 221317, an event of 2024 written with the old ward's name gets
   the new ward; where a ward was split, the postal code of the 町域 says which;
3. today's code (``current_municipality_code``): the municipality whose current rows list the
   same postal code, else the main successor.

``region_code`` is ``<code in force>:<postal code>``; ``current_region_code`` the same with
today's code — aggregates and lists key by it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from renkei.normalize.address_index import AddressIndex
from renkei.normalize.addresses import StdAddress, standardize_address
from renkei.normalize.errors import StandardizationError
from renkei.reference.municipalities import Municipalities
from renkei.reference.release import ReferenceRelease

__all__ = ["ReferenceSnapshot", "ResolvedAddress", "resolve_address"]


@dataclass(frozen=True, slots=True)
class ResolvedAddress:
    """A standardized address with the codes in force on its date and today's codes."""

    address: StdAddress  # municipality / region code: those in force on the date
    current_municipality_code: str
    current_region_code: str
    reference_version: str


class ReferenceSnapshot:
    """A release with its indexes built (about 3 s for the whole country): share it."""

    def __init__(self, release: ReferenceRelease, today: dt.date | None = None) -> None:
        self.release = release
        self.version = release.version
        self.municipalities: Municipalities = release.municipalities
        self.index = AddressIndex(release.postal_rows(current=True))
        history = list(release.postal_rows(current=False))
        self.history = AddressIndex(history) if history else None
        self.today = today
        self._renames = _renames(self.municipalities, today or dt.date.today())

    def with_current_names(self, text: str) -> str:
        """``text`` with the first retired or former municipality name it contains replaced by
        today's name (筑紫郡那珂川町 → 那珂川市, 篠山市 → 丹波篠山市); unchanged when none."""
        for old, new in self._renames:
            if old in text:
                return text.replace(old, new, 1)
        return text

    def current_codes(self, code: str) -> tuple[str, ...]:
        return self.municipalities.current_codes(code, self.today or dt.date.today())


def resolve_address(
    text: str, postal_code: str | None, on: dt.date, snapshot: ReferenceSnapshot
) -> ResolvedAddress:
    """Resolve ``text`` as of ``on`` (see the module docstring). Raises
    :class:`StandardizationError` (field ``address``) as :func:`standardize_address` does."""
    std = _first_reading(text, postal_code, snapshot)
    found = std.municipality_code
    today_codes = snapshot.current_codes(found)
    current = _by_postal(snapshot.index, std.postal_code, today_codes) or today_codes[0]
    prefer = {found, current}
    if snapshot.history is not None:
        prefer |= {c.code for c, _ in snapshot.history.by_postal_code(std.postal_code)}
    in_force = snapshot.municipalities.code_on(found, on, prefer)
    entry = snapshot.municipalities.get(in_force)
    if in_force != found or (entry is not None and entry.former_names):
        city = entry.name_on(on) if entry is not None else std.city
        std = replace(
            std,
            city=city,
            municipality_code=in_force,
            region_code=f"{in_force}:{std.postal_code}",
        )
    return ResolvedAddress(
        address=std,
        current_municipality_code=current,
        current_region_code=f"{current}:{std.postal_code}",
        reference_version=snapshot.version,
    )


def _first_reading(text: str, postal_code: str | None, snapshot: ReferenceSnapshot) -> StdAddress:
    """The first reading that resolves (see the module docstring, step 1)."""
    attempts: list[tuple[str, AddressIndex, bool]] = [(text, snapshot.index, False)]
    if snapshot.history is not None:
        attempts.append((text, snapshot.history, False))
    renamed = snapshot.with_current_names(text)
    if renamed != text:
        attempts.append((renamed, snapshot.index, True))
    attempts.append((text, snapshot.index, True))
    first_error: StandardizationError | None = None
    for written, index, typos in attempts:
        try:
            return standardize_address(written, postal_code, index, typos=typos)
        except StandardizationError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _by_postal(index: AddressIndex, postal_code: str, candidates: tuple[str, ...]) -> str | None:
    """The one candidate whose current rows list ``postal_code`` (a split ward's 町域)."""
    codes = {city.code for city, _ in index.by_postal_code(postal_code)}
    fitting = [code for code in candidates if code in codes]
    return fitting[0] if len(fitting) == 1 else None


def _renames(table: Municipalities, today: dt.date) -> list[tuple[str, str]]:
    """(old name, today's name) of retired codes with one successor and of renames, longest
    first, also without the 郡 (那珂川町 as well as 筑紫郡那珂川町)."""
    pairs: dict[str, str] = {}
    for entry in table.by_code.values():
        olds = [f.name for f in entry.former_names]
        target = entry
        if entry.valid_to is not None:
            codes = table.current_codes(entry.code, today)
            successor = table.get(codes[0]) if len(codes) == 1 else None
            if successor is None:
                continue
            olds.append(entry.name)
            target = successor
        for old in olds:
            if old == target.name or "区" in old:
                continue  # wards are resolved through the retired rows, not renamed
            pairs[old] = target.name
            if "郡" in old:
                pairs[old.split("郡", 1)[1]] = target.name
    return sorted(pairs.items(), key=lambda p: len(p[0]), reverse=True)
