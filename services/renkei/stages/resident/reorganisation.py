"""Re-keying residents when a municipal change takes effect (合併 / 区再編), without a new event.

Aggregates and lists count a resident under **today's** region code. Standardize gives each
address ``current_region_code`` (today's successor) when it standardizes the event; a resident
whose last event was standardized before a reorganisation took effect (or before the platform
had the release that records it) still holds the old ward's code. When the reference release
in force says that code is retired as of today, the resident is *re-keyed*: the state keeps

    rekeyed = {"from": <code the address gives>, "to": <today's code>, "release": ..., "on": ...}

and :func:`renkei.stages.resident.profile.aggregate_region_code` returns ``to`` while the
address still gives ``from``. ``unified.resident.region_code`` and
``internal.resident.facts.region_code`` then carry today's code; the region and evacuation
stages move the resident as for a move (``shared/routing.py``): the old region's counts go
down, the new one's up. The address itself (``municipality_code``, ``region_code`` of its
date) is not rewritten: it is the registry's record of that date. A later event that brings an
address with its own codes makes ``rekeyed`` moot (``from`` no longer matches).

A split ward (浜松市北区 → 浜名区 and 中央区) goes to the successor whose current postal rows
list the address's postal code (三方原町 → 中央区), else to the main successor — the same rule
standardize uses (``reference/snapshot.py``).

Everything here is a pure function of (state, :class:`CodesInForce`): the same release and the
same day give the same answer, and a resident already re-keyed is unchanged (idempotent).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from renkei.reference.municipalities import Municipalities
from renkei.shared.values import digest
from renkei.stages.resident.state import ResidentState

__all__ = ["CodesInForce", "PartitionScans", "japan_today", "rekey", "rekey_trigger"]

JST = dt.timezone(dt.timedelta(hours=9), "JST")
"""Municipal changes take effect at midnight in Japan (no daylight saving time)."""
_NAMESPACE = uuid.UUID("8e3f0c55-4b7d-4f0e-9a61-0c2d9b7e5a13")


def japan_today() -> dt.date:
    """Today's date in Japan: the day a change takes effect on."""
    return dt.datetime.now(JST).date()


@dataclass(frozen=True)
class CodesInForce:
    """The municipality codes of one reference release, as of one day.

    ``postal_codes(postal_code)`` gives the municipality codes of that postal code's rows in
    force today (empty when the release has none): it chooses a split ward's successor."""

    release: str
    today: dt.date
    municipalities: Municipalities
    postal_codes: Callable[[str], frozenset[str]] = lambda _postal: frozenset()

    @cached_property
    def retired(self) -> dict[str, tuple[str, ...]]:
        """Codes retired by ``today`` → today's codes of their area."""
        return {
            m.code: self.municipalities.current_codes(m.code, self.today)
            for m in self.municipalities.by_code.values()
            if m.valid_to is not None and m.valid_to < self.today and m.successors
        }

    @cached_property
    def changes_digest(self) -> str:
        """What changes are in effect today (not the release's name): a new release that
        retires no further code, or a day that passes no change's date, gives the same digest,
        so it causes no scan."""
        return digest({code: list(codes) for code, codes in sorted(self.retired.items())})

    def successor_region(self, region_code: str) -> str | None:
        """Today's region code for ``region_code`` (``<code>:<postal>`` or a bare 6-digit code),
        None when its municipality code is still in force."""
        code, sep, postal = region_code.partition(":")
        today = self.municipalities.current_codes(code, self.today)
        if today == (code,):
            return None
        chosen = today[0]
        if postal:
            fitting = [c for c in today if c in self.postal_codes(postal)]
            if len(fitting) == 1:
                chosen = fitting[0]
        return f"{chosen}{sep}{postal}"


def address_region_code(address: dict[str, Any] | None) -> str | None:
    """The region code the address itself gives: today's code at standardization
    (``current_region_code``), else the code of its date."""
    address = address or {}
    code = address.get("current_region_code") or address.get("region_code")
    return str(code) if code else None


def counted_region_code(address: dict[str, Any] | None, rekeyed: dict[str, Any] | None) -> Any:
    """The region a resident counts in: the re-keyed code while the address still gives the
    code it was re-keyed from, else the address's own (:func:`address_region_code`)."""
    own = address_region_code(address)
    if rekeyed and own is not None and rekeyed.get("from") == own:
        return rekeyed["to"]
    if own is None:
        return (address or {})["region_code"]  # the schemas require one: fail loudly
    return own


def rekey(state: ResidentState, codes: CodesInForce) -> ResidentState:
    """``state`` re-keyed to today's region code; the same object when its region is still in
    force, or it has no address yet, or it was re-keyed already, or the resident no longer
    lives here (転出 / 死亡: no aggregate or list counts them; their record stays as it was)."""
    if state.view.status != "residing":
        return state
    address = state.view.address
    own = address_region_code(address)
    if own is None:
        return state
    counted = counted_region_code(address, state.rekeyed)
    successor = codes.successor_region(str(counted))
    if successor is None or successor == counted:
        return state
    rekeyed = {
        "from": own,
        "to": successor,
        "release": codes.release,
        "on": codes.today.isoformat(),
    }
    return dataclasses.replace(state, rekeyed=rekeyed)


def rekey_trigger(
    resident_key: str, target: str, codes: CodesInForce, recorded_at: str
) -> dict[str, Any]:
    """The envelope of the outputs a re-key causes (``profile._envelope``): a deterministic
    event id (the same change re-keying the same resident gives the same id), no event type
    (the region stage counts no 転入/転出 for it), the day in Japan it took effect as
    ``effective_date`` and the time of the re-key as ``recorded_at``."""
    event_id = uuid.uuid5(_NAMESPACE, f"{codes.changes_digest}/{resident_key}/{target}")
    return {
        "event_id": str(event_id),
        "municipality_code": target.partition(":")[0],
        "effective_date": codes.today.isoformat(),
        "recorded_at": recorded_at,
        "event_type": None,
    }


@dataclass
class PartitionScans:
    """A partition's scan in chunks of ``chunk`` residents, so that one message never holds the
    worker for the whole partition: each chunk's message is followed by a continuation message
    (``after``: the last key done) keyed by the next resident of the same partition, so it lands
    there (the default partitioner places it as that resident's records). The sorted key list
    is taken once per scan and kept until the scan ends (taken again after a restart)."""

    chunk: int = 500
    _keys: dict[tuple[int, str], list[str]] = field(default_factory=dict)

    def next_chunk(
        self, partition: int, scan: str, after: str | None, list_keys: Callable[[], list[str]]
    ) -> tuple[list[str], str | None, int]:
        """(keys to re-key now, key of the continuation message or None when done, keys in
        the scan)."""
        slot = (partition, scan)
        if after is None or slot not in self._keys:
            self._keys[slot] = list_keys()
        keys = self._keys[slot]
        start = 0 if after is None else bisect_right(keys, after)
        end = start + self.chunk
        if end >= len(keys):
            del self._keys[slot]
            return keys[start:], None, len(keys)
        return keys[start:end], keys[end], len(keys)
