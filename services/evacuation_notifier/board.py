"""The notifier's state: current lists by list key, and what each update changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Change:
    """What one update did to a list, for the log line (counts only: no personal data)."""

    list_key: str
    status: str
    level: int
    mode: str
    count: int
    added: int
    removed: int
    corrects: int | None = None
    """The version this one corrects (訂正版: the earlier one named someone wrongly or missed
    someone, docs/corrections.md); None for an ordinary update."""

    def describe(self) -> str:
        line = (
            f"[{self.status}] {self.list_key} level {self.level} ({self.mode} mode): "
            f"{self.count} persons (+{self.added}/-{self.removed})"
        )
        if self.corrects is not None:
            line += f" CORRECTS version {self.corrects}: discard it"
        return line


@dataclass
class Board:
    """Active lists keyed by ``<alert_id>:<region_code>``."""

    lists: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, update: dict[str, Any]) -> Change:
        """Apply one derived.evacuation-support record (as a plain dict)."""
        key = str(update["list_key"])
        before = {p["resident_key"] for p in self.lists.get(key, {}).get("persons", [])}
        after = {p["resident_key"] for p in update.get("persons", [])}
        if update["status"] == "lifted":
            self.lists.pop(key, None)
        else:
            self.lists[key] = update
        return Change(
            list_key=key,
            status=str(update["status"]),
            level=int(update["level"]),
            mode=str(update["mode"]),
            count=len(after),
            added=len(after - before),
            removed=len(before - after),
            corrects=_corrects(update),
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready view of every active list."""
        return {"active_lists": len(self.lists), "lists": list(self.lists.values())}


def _corrects(update: dict[str, Any]) -> int | None:
    correction = update.get("correction")
    if not correction or correction.get("corrects_sequence") is None:
        return None
    return int(correction["corrects_sequence"])
