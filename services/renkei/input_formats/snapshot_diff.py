"""Snapshot diff: two full registry exports (yesterday, today) → the change events between them.

Many legacy 住民記録 systems can only export the whole registry. Comparing two exports by
resident key gives: a key only in the new export → 転入 ``moved_in`` (記載); a key only in the old
one → 転出 ``moved_out`` (or ``died``, as the mapping says; an export cannot tell them apart
unless it has a status column); a changed address → 転居 ``moved_within``; a changed household →
``household_changed``; changed personal items → ``corrected`` (職権訂正). Every event's
effective date is the date of the new export (the legal date of the change is not in a snapshot).

支援措置: when the mapping states the export's 支援措置 column (``detail.protection.protected``),
the events that introduce an address (``moved_in``, ``moved_within``) carry it as their
``protection`` (an empty cell = not stated, null), like the change-export mapping. At an
unchanged address, a status that becomes 有 gives a ``protection_set`` (measure from
``detail.protection.measure`` if mapped, else その他; valid one year from the export's date, the
usual term), and 有 → 無 a ``protection_lifted``. Nothing else lifts a measure.

The new export is streamed row by row against the old one, indexed by key: memory holds the
old export and the keys of the new one, not the new export's rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from renkei.input_formats.csv_events import EVENT_NAMESPACE, CsvEventBuilder
from renkei.input_formats.csv_rows import CsvRow
from renkei.publish.jsonl import JsonLine


def _by_key(
    builder: CsvEventBuilder, rows: Iterable[CsvRow], problems: list[JsonLine]
) -> dict[str, tuple[int, dict[str, Any]]]:
    key_field = builder.spec.key_field
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for row in rows:
        line = builder.fields_of(row)
        if line.value is None:
            problems.append(line)
        elif not line.value.get(key_field):
            problems.append(JsonLine(line.number, None, ((key_field, "empty key"),)))
        else:
            found[str(line.value[key_field])] = (line.number, line.value)
    return found


def snapshot_id(builder: CsvEventBuilder, key: str, row: dict[str, Any]) -> str:
    """A stable id for a resident's row in a snapshot (what a correction supersedes)."""
    detail = row.get("detail", {})
    content = repr(sorted((k, repr(v)) for k, v in detail.items()))
    return str(
        uuid.uuid5(EVENT_NAMESPACE, f"{builder.spec.topic}\x1fsnapshot\x1f{key}\x1f{content}")
    )


def diff_snapshots(
    builder: CsvEventBuilder, old_rows: Iterable[CsvRow], new_rows: Iterable[CsvRow], as_of: dt.date
) -> Iterator[JsonLine]:
    """Change events between two exports, each as its row of the new export is read (a row
    that cannot be read, or repeats a key, as problems), then the removals, then the old
    export's problems.

    Line numbers refer to the new export (to the old one for removals).
    """
    old_problems: list[JsonLine] = []
    old = _by_key(builder, old_rows, old_problems)
    key_field = builder.spec.key_field
    seen: dict[str, int] = {}
    for new_row in new_rows:
        line = builder.fields_of(new_row)
        if line.value is None:
            yield line
            continue
        key = str(line.value.get(key_field) or "")
        if not key:
            yield JsonLine(line.number, None, ((key_field, "empty key"),))
            continue
        if key in seen:
            reason = f"the key is already on line {seen[key]}: a snapshot has one row per key"
            yield JsonLine(line.number, None, ((key_field, reason),))
            continue
        seen[key] = line.number
        before = old.get(key)
        for event in _changes(builder, key, before[1] if before else None, line.value, as_of):
            yield _finished(builder, line.number, event, as_of)
    for key, (number, row) in old.items():
        if key not in seen:
            yield _finished(builder, number, _removed(builder, key, row, as_of), as_of)
    yield from old_problems


def _finished(
    builder: CsvEventBuilder, line: int, event: dict[str, Any], as_of: dt.date
) -> JsonLine:
    event.setdefault("effective_date", as_of.isoformat())
    builder.finish(event)
    return JsonLine(line, event)


def _base(
    row: dict[str, Any], event_type: str, reason: str, detail: dict[str, Any]
) -> dict[str, Any]:
    envelope = {k: v for k, v in row.items() if k != "detail"}
    return {**envelope, "event_type": event_type, "reason": reason, "detail": detail}


def _one_year_from(day: dt.date) -> dt.date:
    """The last day of a one-year term starting on ``day`` (支援措置 are granted for a year)."""
    try:
        return day.replace(year=day.year + 1) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _protection_changes(
    new: dict[str, Any], before: dict[str, Any], detail: dict[str, Any], as_of: dt.date
) -> list[dict[str, Any]]:
    """The 支援措置 events of a row whose address did not change (see the module doc)."""
    was = (before.get("protection") or {}).get("protected")
    now = (detail.get("protection") or {}).get("protected")
    if now is True and was is not True:
        measure = (detail.get("protection") or {}).get("measure") or "その他"
        set_detail: dict[str, Any] = {
            "measure": measure,
            "valid_until": _one_year_from(as_of).isoformat(),
            "named_resident_keys": [],
        }
        return [_base(new, "protection_set", "支援措置（差分検出）", set_detail)]
    if was is True and now is False:
        lifted = {"lifted_reason": "支援措置欄が無（差分検出）"}
        return [_base(new, "protection_lifted", "支援措置終了（差分検出）", lifted)]
    return []


def _changes(
    builder: CsvEventBuilder,
    key: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    as_of: dt.date,
) -> list[dict[str, Any]]:
    detail = new.get("detail", {})
    if old is None:
        added = {**detail, "from_abroad": False, "protection": detail.get("protection")}
        return [_base(new, "moved_in", builder.mapping.diff.added_reason, added)]
    before = old.get("detail", {})
    events = []
    if before.get("person") != detail.get("person"):
        fields = sorted(
            f"detail.person.{name}"
            for name in set(before.get("person", {})) | set(detail.get("person", {}))
            if before.get("person", {}).get(name) != detail.get("person", {}).get(name)
        )
        events.append(
            _base(
                new,
                "corrected",
                "職権修正（差分検出）",
                {
                    "supersedes_event_id": snapshot_id(builder, key, old),
                    "corrected_fields": fields,
                    "person": detail.get("person"),
                },
            )
        )
    if before.get("address") != detail.get("address"):
        events.append(
            _base(
                new,
                "moved_within",
                "転居（差分検出）",
                {
                    "address": detail.get("address"),
                    "household": detail.get("household"),
                    "protection": detail.get("protection"),
                },
            )
        )
        return events  # the new address states its own protection
    if before.get("household") != detail.get("household"):
        events.append(
            _base(
                new,
                "household_changed",
                "世帯変更（差分検出）",
                {
                    "household": detail.get("household"),
                    "change_kind": "世帯変更",
                },
            )
        )
    return events + _protection_changes(new, before, detail, as_of)


def _removed(
    builder: CsvEventBuilder, key: str, row: dict[str, Any], as_of: dt.date
) -> dict[str, Any]:
    rules = builder.mapping.diff
    if rules.removed_event == "died":
        return _base(row, "died", rules.removed_reason, {"date_of_death": as_of.isoformat()})
    return _base(row, "moved_out", rules.removed_reason, {"to_abroad": False})
