"""The hash chain of the audit log: canonical JSON, record hashes and verification.

Pure functions, no I/O. Each record is one JSON-lines entry; ``hash`` is
``sha256(prev_hash + canonical_json(record without "hash"))`` in hex, and ``prev_hash`` is the
previous record's ``hash`` (:data:`GENESIS` for the first). Changing any byte of a record breaks
its own hash; deleting, inserting or reordering records breaks the ``prev_hash`` link of the
record after the gap and the ``sequence`` numbering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1
GENESIS = "0" * 64
FIELDS = (
    "v",
    "sequence",
    "event_id",
    "recorded_at",
    "kind",
    "actor",
    "details",
    "municipality_code",
    "prev_hash",
    "hash",
)
MAX_TEXT = 256
"""Longest string kept verbatim in a record (actor, detail values); a longer one is replaced by
its first characters, its length and its sha256, so one oversized id (a 70 kB ``alert_id``)
cannot bloat the chain, yet the record still identifies it."""
MAX_DETAILS_BYTES = 8 * 1024
"""Largest canonical JSON of ``details`` kept as is; above it the details are replaced by their
sha256, size and top-level keys (the record is written all the same)."""
# Details describe releases (counts, ids of alerts and agreements, principals), never people.
_PERSONAL_KEYS = ("resident_key", "name", "kana", "address", "birth", "phone", "my_number")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept (what the hash covers)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """sha256 (hex) of the previous hash followed by the canonical JSON of ``body``."""
    without_hash = {k: v for k, v in body.items() if k != "hash"}
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(canonical_json(without_hash).encode("utf-8"))
    return digest.hexdigest()


def check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """``details`` as a plain JSON object, bounded; ValueError when a key looks personal or the
    value is not JSON. Keys are checked recursively; values cannot be (counts and ids are fine).
    Strings over :data:`MAX_TEXT` and details over :data:`MAX_DETAILS_BYTES` are replaced by
    bounded stand-ins (:func:`bound_text`), never refused: an audit record is always written."""
    plain = json.loads(canonical_json(dict(details)))

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                lowered = str(key).lower()
                if any(marker in lowered for marker in _PERSONAL_KEYS):
                    raise ValueError(f"audit details must not hold personal data (key {path}{key})")
                walk(inner, f"{path}{key}.")
        elif isinstance(value, list):
            for inner in value:
                walk(inner, path)

    walk(plain, "")
    bounded = _bound(plain)
    size = len(canonical_json(bounded).encode("utf-8"))
    if size > MAX_DETAILS_BYTES:
        digest = hashlib.sha256(canonical_json(plain).encode("utf-8")).hexdigest()
        return {
            "oversized": {
                "bytes": size,
                "sha256": digest,
                "keys": [bound_text(str(key)) for key in sorted(bounded)[:32]],
            }
        }
    return dict(bounded)


def bound_text(value: str) -> str:
    """``value`` if at most :data:`MAX_TEXT` characters, else a bounded stand-in naming its
    length and sha256 (the same input always gives the same stand-in)."""
    if len(value) <= MAX_TEXT:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{value[:64]}…[{len(value)} chars, sha256:{digest}]"


def _bound(value: Any) -> Any:
    if isinstance(value, str):
        return bound_text(value)
    if isinstance(value, dict):
        return {bound_text(str(key)): _bound(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_bound(inner) for inner in value]
    return value


def new_record(
    *,
    sequence: int,
    prev_hash: str,
    kind: str,
    actor: str,
    details: Mapping[str, Any],
    municipality_code: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The next record of the chain, hashed."""
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    body: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "sequence": sequence,
        "event_id": str(uuid.uuid4()),
        "recorded_at": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "kind": kind,
        "actor": bound_text(actor),
        "details": check_details(details),
        "municipality_code": municipality_code,
        "prev_hash": prev_hash,
    }
    body["hash"] = record_hash(prev_hash, body)
    return body


def encode_line(record: Mapping[str, Any]) -> bytes:
    """One JSON line (with its newline) as written to the file."""
    return (canonical_json(dict(record)) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Problem:
    """Where the chain breaks: 1-based line number in the file and what is wrong there."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class Verification:
    """Outcome of :func:`verify_lines`."""

    records: int = 0
    last_sequence: int | None = None
    last_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """The record on one line, or None when it is not a well-formed record."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict) or set(value) != set(FIELDS):
        return None
    if not isinstance(value["sequence"], int) or not isinstance(value["hash"], str):
        return None
    return value


def verify_lines(lines: Iterable[bytes]) -> Verification:
    """Check every line's own hash, its link to the previous line and the numbering."""
    result = Verification()
    expected_prev, expected_seq = GENESIS, 0
    for number, raw in enumerate(lines, start=1):
        record = parse_line(raw.rstrip(b"\n"))
        if record is None:
            result.problems.append(Problem(number, "not a well-formed audit record (changed)"))
            expected_prev, expected_seq = "", expected_seq + 1
            continue
        result.records += 1
        _check_record(record, number, expected_prev, expected_seq, result.problems)
        expected_prev, expected_seq = record["hash"], record["sequence"] + 1
        result.last_sequence, result.last_hash = record["sequence"], record["hash"]
    return result


def _check_record(
    record: dict[str, Any], number: int, prev: str, seq: int, problems: list[Problem]
) -> None:
    where = f"sequence {record['sequence']}"
    if record_hash(record["prev_hash"], record) != record["hash"]:
        problems.append(Problem(number, f"{where}: hash mismatch, the record was changed"))
    if prev and record["prev_hash"] != prev:
        problems.append(
            Problem(
                number,
                f"{where}: prev_hash does not match the previous line's hash "
                "(a record was deleted, inserted or reordered before this line)",
            )
        )
    if record["sequence"] != seq:
        problems.append(
            Problem(number, f"{where}: expected sequence {seq} (records missing or out of order)")
        )
