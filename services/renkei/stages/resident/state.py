"""Per-resident state of the resident stage, built from std registry events, checkups and care.

One ``ResidentState`` per ``resident_key`` (団体内統合宛名番号) lives in a faust table. It keeps

- the resident's registry event log (a resident has a few dozen 異動 in a lifetime), in
  event-time order (effective_date, recorded_at, sequence). The current registry view is always
  *rebuilt* by folding the log, so an event that arrives late or out of order is applied into
  history, and a ``corrected`` event (職権訂正/誤記修正) overlays the event it supersedes wherever
  that event sits in history;
- the latest checkup and the latest care certification (latest by the same event-time order).

Idempotency: a registry event whose ``event_id`` is already in the log changes nothing; a
checkup or certification that is not newer than the one held changes nothing. Applying any
event twice, or replaying every input, leaves the state unchanged.

Choices:
- 支援措置 (protection) is lifted only by a ``protection_lifted`` event, never because
  ``valid_until`` passed: the measure is renewed on request and the renewal may be recorded
  late, and showing a DV victim's address one day too early is the harm the measure prevents.
- An event that introduces an address (moved_in, born, moved_within, a correction of the
  address) states the protection status the registry knew when it recorded it (``protection``;
  null = not stated). ``protected: true`` protects from that event on, like a protection_set;
  ``protected: false`` never lifts a measure (only protection_lifted does). Until a status is
  stated for the current address (``protection_stated``), the address is withheld from every
  output (``stages/resident/dwelling.py``).
- A ``corrected`` event whose target is not (yet) in the log is kept and has no effect until the
  target arrives. A correction of a correction corrects the original event.
- Status: residing after moved_in / born (and by default for a resident first seen through
  another event), moved_out after moved_out, deceased after died.
- A correction whose ``corrected_fields`` names ``effective_date`` corrects the 異動日 of its
  target: the correction's own ``effective_date`` is the corrected date, and the target is
  folded at that date (the latest such correction by record time wins).

Bitemporal reading (docs/corrections.md): every event keeps its valid time (``effective_date``)
and its record time (``recorded_at``). :func:`view_as_recorded` folds only what had been
recorded by a given record time, so the history of a resident's registry view can be read as
of any record time; :func:`record_time` is the latest record time the state reflects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from renkei.shared.values import age_on, as_order_key, epoch_ms, iso_date, json_form, order_key

Status = Literal["residing", "moved_out", "deceased"]

_SLIM_DROP = ("std_meta", "source_system", "resident_key")


def _slim(event: dict[str, Any]) -> dict[str, Any]:
    """JSON form of an input event without what the state never reads, plus its order key."""
    slim = {k: v for k, v in json_form(event).items() if k not in _SLIM_DROP}
    slim["order"] = list(order_key(slim))
    return slim


@dataclass(frozen=True)
class RegistryView:
    """The registry facts of one resident as of the latest event (after corrections)."""

    status: Status | None = None
    person: dict[str, Any] | None = None
    address: dict[str, Any] | None = None
    household: dict[str, Any] | None = None
    protected: bool = False
    protection_stated: bool = False
    """Whether the registry stated a 支援措置 status for the current address (see above)."""
    named_resident_keys: tuple[str, ...] = ()
    """Persons named with this applicant (併せて支援を求める者) by the protection in force."""
    protection_measure: str | None = None
    protection_valid_until: str | None = None
    died_on: str | None = None
    municipality_code: str | None = None
    last_effective_date: str | None = None
    moved_in_on: str | None = None
    """異動日 (after corrections) of the 転入 (moved_in) that brought the resident to the current
    address; None when the current address came from a 転居 or a birth (or none is known)."""
    migrations: tuple[tuple[str, str, str], ...] = ()
    """Every 転入 and 転出 of the resident's history, after corrections, as
    (direction ``in``/``out``, 異動日, region code moved into / out of), in valid-time order:
    what the region stage counts as migration (a 転居 within the municipality is not)."""


def aggregate_region_code(address: dict[str, Any] | None) -> Any:
    """The region a resident counts in: today's region code (``current_region_code``, after
    later mergers or ward reorganisations) when standardization gave one, else the code of
    the address's date (docs/reference-data.md, re-keying)."""
    address = address or {}
    return address.get("current_region_code") or address["region_code"]


def _migration(view: RegistryView, kind: str, day: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The view change recording a 転入 (into the event's address) or a 転出 (out of the
    address held before it); nothing when the address is unknown."""
    address = detail.get("address") if kind == "moved_in" else view.address
    if kind not in ("moved_in", "moved_out") or not address:
        return {}
    if kind == "moved_out" and view.status not in (None, "residing"):
        return {}
    move = ("in" if kind == "moved_in" else "out", day, str(aggregate_region_code(address)))
    return {"migrations": (*view.migrations, move)}


def _residing_if_unknown(view: RegistryView) -> Status:
    return view.status or "residing"


def _step(view: RegistryView, event: dict[str, Any], detail: dict[str, Any]) -> RegistryView:
    """Apply one (already corrected) registry event to the view."""
    kind = event["event_type"]
    changes: dict[str, Any] = {"last_effective_date": event["effective_date"]}
    changes.update(_migration(view, kind, str(event["effective_date"]), detail))
    if kind in ("moved_in", "born"):
        changes.update(status="residing", person=detail.get("person"), died_on=None)
    if kind == "moved_in":
        changes["moved_in_on"] = event["effective_date"]
    elif kind in ("born", "moved_within"):
        changes["moved_in_on"] = None
    elif kind == "moved_out":
        changes.update(status="moved_out")
    elif kind == "died":
        changes.update(status="deceased", died_on=detail.get("date_of_death"))
    elif kind == "protection_set":
        changes.update(
            protected=True,
            protection_stated=True,
            protection_measure=detail.get("measure"),
            protection_valid_until=detail.get("valid_until"),
            named_resident_keys=tuple(detail.get("named_resident_keys") or ()),
        )
    elif kind == "protection_lifted":
        changes.update(
            protected=False,
            protection_stated=True,
            protection_measure=None,
            protection_valid_until=None,
            named_resident_keys=(),
        )
    if kind in ("moved_in", "born", "moved_within") and detail.get("address") is not None:
        changes["address"] = detail["address"]
        changes["municipality_code"] = detail["address"].get("municipality_code")
        changes.update(_stated_protection(view, detail.get("protection")))
    if kind in ("moved_in", "born", "moved_within", "household_changed"):
        changes["household"] = detail.get("household") or view.household
    if kind in ("moved_within", "household_changed", "protection_set", "protection_lifted"):
        changes["status"] = _residing_if_unknown(view)
    if view.municipality_code is None and "municipality_code" not in changes:
        changes["municipality_code"] = event.get("municipality_code")
    return dataclasses.replace(view, **changes)


def _stated_protection(view: RegistryView, stated: dict[str, Any] | None) -> dict[str, Any]:
    """View changes for the ``protection`` an address-introducing event states (None: not
    stated, the new address is withheld until a status is stated)."""
    if stated is None:
        return {"protection_stated": False}
    if not stated.get("protected"):
        return {"protection_stated": True}  # only protection_lifted lifts a measure
    return {
        "protection_stated": True,
        "protected": True,
        "protection_measure": stated.get("measure") or view.protection_measure,
        "protection_valid_until": stated.get("valid_until") or view.protection_valid_until,
    }


def _correction_root(event_id: str, by_id: dict[str, dict[str, Any]]) -> str | None:
    """The original event a (chain of) correction(s) supersedes, None while it is unknown."""
    seen: set[str] = set()
    current = event_id
    while current in by_id and by_id[current]["event_type"] == "corrected":
        if current in seen:
            return None
        seen.add(current)
        current = by_id[current]["detail"]["supersedes_event_id"]
    return current if current in by_id else None


def _corrections_by_target(log: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_id = {e["event_id"]: e for e in log}
    targets: dict[str, list[dict[str, Any]]] = {}
    for event in log:  # the log is in event-time order, so later corrections win
        if event["event_type"] != "corrected":
            continue
        root = _correction_root(event["event_id"], by_id)
        if root is not None:
            targets.setdefault(root, []).append(event)
    return targets


def _corrected_detail(event: dict[str, Any], corrections: list[dict[str, Any]]) -> dict[str, Any]:
    detail = dict(event.get("detail") or {})
    for correction in corrections:
        for part in ("person", "address", "household"):
            replacement = correction["detail"].get(part)
            if replacement is not None:
                detail[part] = replacement
        if correction["detail"].get("address") is not None:
            # the status stated for the original address says nothing of the corrected one
            detail["protection"] = correction["detail"].get("protection")
    return detail


DATE_FIELD = "effective_date"
"""The ``corrected_fields`` entry of a correction of the 異動日 (also ``detail.effective_date``)."""


def _corrects_date(correction: dict[str, Any]) -> bool:
    fields = correction["detail"].get("corrected_fields") or []
    return any(str(f).rsplit(".", 1)[-1] == DATE_FIELD for f in fields)


def _record_order(event: dict[str, Any]) -> tuple[int, int]:
    order = as_order_key(event["order"])
    return order[1], order[2]


def effective_log(log: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """[(event, corrected detail)] of the non-correction events, each at its corrected 異動日,
    in event-time order: what the registry view is folded from."""
    ordered = sorted(log, key=lambda e: as_order_key(e["order"]))
    corrections = _corrections_by_target(ordered)
    applied: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for event in ordered:
        if event["event_type"] == "corrected":
            continue
        own = corrections.get(event["event_id"], [])
        redate = [c for c in own if _corrects_date(c)]
        if redate:
            day = str(max(redate, key=_record_order)["effective_date"])
            order = [day, *list(event["order"])[1:]]
            event = {**event, "effective_date": day, "order": order}
        applied.append((event, _corrected_detail(event, own)))
    applied.sort(key=lambda pair: as_order_key(pair[0]["order"]))
    return applied


def fold_registry(log: list[dict[str, Any]]) -> RegistryView:
    """Rebuild the registry view from the event log (any order in, event-time order applied)."""
    view = RegistryView()
    for event, detail in effective_log(log):
        view = _step(view, event, detail)
    return view


def recorded_by(log: list[dict[str, Any]], record_time: str) -> list[dict[str, Any]]:
    """The events of ``log`` recorded at or before ``record_time`` (ISO timestamp with offset)."""
    limit = epoch_ms(record_time)
    return [e for e in log if epoch_ms(str(e["recorded_at"])) <= limit]


def view_as_recorded(log: list[dict[str, Any]], record_time: str) -> RegistryView:
    """The registry view as the platform knew it at ``record_time``: valid time from the
    events' (corrected) effective dates, record time from their ``recorded_at``. A correction
    recorded later than ``record_time`` is not applied; a late event filed later is absent."""
    return fold_registry(recorded_by(log, record_time))


def record_times(log: list[dict[str, Any]]) -> list[str]:
    """The distinct record times of ``log``, oldest first: the points the view can change at."""
    return sorted({str(e["recorded_at"]) for e in log}, key=epoch_ms)


def registry_history(log: list[dict[str, Any]]) -> list[tuple[str, RegistryView]]:
    """[(record time, view as recorded then)] for every record time of the log."""
    return [(t, view_as_recorded(log, t)) for t in record_times(log)]


@dataclass(frozen=True)
class ResidentState:
    """Everything the resident stage remembers about one resident (JSON-serializable)."""

    resident_key: str
    registry_log: tuple[dict[str, Any], ...] = ()
    checkup: dict[str, Any] | None = None
    care: dict[str, Any] | None = None
    household_view: dict[str, Any] | None = None
    """The latest household view (size, children, ages) the household step sent back."""
    household_sent: dict[str, Any] | None = None
    """The last membership this resident announced to the household step, with its revision."""
    address_view: dict[str, Any] | None = None
    """The latest view of the address group (is anyone at the address protected)."""
    address_sent: dict[str, Any] | None = None
    """The last membership this resident announced to its address group, with its revision."""
    named_by: dict[str, dict[str, Any]] = field(default_factory=dict)
    """applicant resident_key → {protected, rev}: the protections naming this resident."""
    named_sent: dict[str, Any] | None = None
    """What this resident last announced to the persons its protection names."""
    revision: int = 0
    emitted: dict[str, str] = field(default_factory=dict)
    rekeyed: dict[str, Any] | None = None
    """Today's region code after a municipal change took effect (``reorganisation.py``):
    {from, to, release, on}; applies while the address still gives ``from``."""

    @property
    def event_ids(self) -> frozenset[str]:
        return frozenset(e["event_id"] for e in self.registry_log)

    @cached_property
    def effective(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """:func:`effective_log` of the registry log (computed once per state object)."""
        return effective_log(list(self.registry_log))

    @cached_property
    def view(self) -> RegistryView:
        """The registry view rebuilt from the log (computed once per state object)."""
        view = RegistryView()
        for event, detail in self.effective:
            view = _step(view, event, detail)
        return view

    def as_of(self) -> dt.date | None:
        """The latest effective date of any input: the date ages are computed at (event time,
        never the wall clock, so a replay computes the same ages). A deceased resident's age
        stops at the date of death."""
        dates = [e["effective_date"] for e, _ in self.effective]
        dates += [r["effective_date"] for r in (self.checkup, self.care) if r is not None]
        latest = iso_date(max(dates)) if dates else None
        died = iso_date(self.view.died_on)
        return min(latest, died) if latest and died else latest

    def record_time(self) -> str | None:
        """The latest ``recorded_at`` of the inputs this state holds (ISO, with offset): the
        record time the state (and every output built from it) reflects."""
        times = [str(e["recorded_at"]) for e in self.registry_log]
        times += [str(r["recorded_at"]) for r in (self.checkup, self.care) if r is not None]
        return max(times, key=epoch_ms) if times else None

    def age(self) -> int | None:
        person = self.view.person or {}
        return age_on(iso_date(person.get("birth_date")), self.as_of())

    def to_dict(self) -> dict[str, Any]:
        return {
            "resident_key": self.resident_key,
            "registry_log": list(self.registry_log),
            "checkup": self.checkup,
            "care": self.care,
            "household_view": self.household_view,
            "household_sent": self.household_sent,
            "address_view": self.address_view,
            "address_sent": self.address_sent,
            "named_by": dict(self.named_by),
            "named_sent": self.named_sent,
            "revision": self.revision,
            "emitted": dict(self.emitted),
            "rekeyed": self.rekeyed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResidentState:
        return cls(
            resident_key=data["resident_key"],
            registry_log=tuple(data.get("registry_log") or ()),
            checkup=data.get("checkup"),
            care=data.get("care"),
            household_view=data.get("household_view"),
            household_sent=data.get("household_sent"),
            address_view=data.get("address_view"),
            address_sent=data.get("address_sent"),
            named_by=dict(data.get("named_by") or {}),
            named_sent=data.get("named_sent"),
            revision=int(data.get("revision", 0)),
            emitted=dict(data.get("emitted") or {}),
            rekeyed=data.get("rekeyed"),
        )


def apply_registry(state: ResidentState, event: dict[str, Any]) -> ResidentState:
    """State with a std registry event added to the log; the same object when already applied."""
    slim = _slim(event)
    if slim["event_id"] in state.event_ids:
        return state
    log = sorted((*state.registry_log, slim), key=lambda e: as_order_key(e["order"]))
    return dataclasses.replace(state, registry_log=tuple(log))


def _newer(current: dict[str, Any] | None, candidate: dict[str, Any]) -> bool:
    if current is None:
        return True
    return as_order_key(candidate["order"]) > as_order_key(current["order"])


def apply_checkup(state: ResidentState, event: dict[str, Any]) -> ResidentState:
    """State holding this checkup if it is the latest; the same object otherwise."""
    slim = _slim(event)
    if not _newer(state.checkup, slim):
        return state
    return dataclasses.replace(state, checkup=slim)


def apply_care(state: ResidentState, event: dict[str, Any]) -> ResidentState:
    """State holding this care certification if it is the latest; the same object otherwise."""
    slim = _slim(event)
    if not _newer(state.care, slim):
        return state
    return dataclasses.replace(state, care=slim)
