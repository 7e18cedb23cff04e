"""``renkei dlq report --department``: what the platform rejected of a department's input, for
the department's own staff (docs/reject-report.md).

The department is found in the agreements (a provider agreement's ``department``, ``principal``
or ``id``); its rejects are the records of ``dlq.<topic>`` for each topic it provides. One CSV
row per problem: when, the source record's own position (file and line, database table and log
position, or where the platform read it), its key (宛名番号), the field path and the reason.
Nothing else of the record: no values (reasons are value-free by contract), and a key shaped like
a 個人番号 is masked. The agreements give the department READ on exactly those DLQ topics
(:func:`renkei.agreements.apply.desired_acls`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from contextlib import aclosing
from dataclasses import astuple, dataclass
from typing import Final

from renkei.agreements.model import Agreement
from renkei.contracts.dlq import HEADER_PREFIX, SOURCE_POSITION_HEADER
from renkei.contracts.names import TopicNames
from renkei.errors import ConfigurationError, RenkeiError
from renkei.identifiers.mynumber import looks_like_my_number
from renkei.ops.dlq.entries import MASK, DlqEntry, mask_text
from renkei.ops.dlq.kafka import DlqReader
from renkei.settings import Settings

TOPIC_AUTHORIZATION_FAILED: Final = 29


class AccessRefused(RenkeiError):
    """The broker refuses this user the DLQ topic (another department's rejects)."""


COLUMNS: Final = (
    "却下日時 rejected_at",
    "取込元の位置 source_position",
    "宛名番号 resident_key",
    "項目 field",
    "理由 reason",
    "段階 stage",
    "区分 reason_class",
    "トピック topic",
)
ENCODINGS: Final = ("utf-8", "utf-8-sig", "cp932")


@dataclass(frozen=True)
class RejectRow:
    """One problem of one rejected record, value-free."""

    rejected_at: str
    source_position: str
    resident_key: str
    field: str
    reason: str
    stage: str
    reason_class: str
    topic: str


def department_topics(agreements: Iterable[Agreement], department: str) -> list[str]:
    """The topics ``department`` provides (matched by department name, principal or agreement
    id); ConfigurationError naming the known departments when none matches."""
    providers = [a for a in agreements if a.role == "provider"]
    chosen = [a for a in providers if department in (a.department, a.principal, a.id)]
    if not chosen:
        known = sorted({f"{a.department} ({a.principal})" for a in providers})
        raise ConfigurationError(
            f"no provider agreement for department {department!r}; known: {', '.join(known)}"
        )
    return sorted({topic for a in chosen for topic in a.topic_names})


def _position(entry: DlqEntry) -> str:
    """The source record's own position: the publisher's origin (file line, table + log
    position), the position the publisher stamped on the record, or where it was read."""
    for header in (HEADER_PREFIX + "origin", SOURCE_POSITION_HEADER):
        found = entry.header(header)
        if found:
            return mask_text(found)
    topic, partition, offset = entry.origin_topic, entry.origin_partition, entry.origin_offset
    if topic is not None and partition is not None and offset is not None:
        return f"{topic} [{partition}] @{offset}"
    return f"{entry.topic} [{entry.partition}] @{entry.offset}"


def _key(entry: DlqEntry) -> str:
    if entry.key is None:
        return ""
    text = entry.key.decode("utf-8", "replace")
    if text == entry.header(HEADER_PREFIX + "origin"):  # a line that had no key: keyed by origin
        return ""
    if looks_like_my_number(text):
        return MASK
    return mask_text(text)


def _problems(detail: str) -> list[tuple[str, str]]:
    """``path: reason; path: reason`` → pairs. A part that does not start with a path belongs
    to the reason before it (a reason may hold "; "); a detail without any path is one
    ``("", text)``."""
    pairs: list[tuple[str, str]] = []
    for part in detail.split("; "):
        path, sep, reason = part.partition(": ")
        a_path = bool(sep and path) and (
            " " not in path or (path.startswith("(") and path.endswith(")"))
        )
        if a_path:
            pairs.append((path, reason))
        elif pairs:
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]}; {part}")
        elif part.strip():
            pairs.append(("", part))
    return pairs or [("", "")]


def reject_rows(entry: DlqEntry, prefix: str = "") -> list[RejectRow]:
    """The rows of one DLQ record (one per problem in its detail)."""
    position = _position(entry)
    key = _key(entry)
    topic = entry.topic.removeprefix(prefix)
    return [
        RejectRow(
            rejected_at=entry.time or "",
            source_position=position,
            resident_key=key,
            field=path,
            reason=mask_text(reason),
            stage=entry.stage,
            reason_class=entry.reason,
            topic=topic,
        )
        for path, reason in _problems(entry.detail)
    ]


async def collect_rejects(
    settings: Settings, topics: Sequence[str], since: str | None = None
) -> tuple[list[RejectRow], int]:
    """(rows, rejected records) of the DLQ topics of ``topics`` (contract names), oldest first;
    ``since``: only records rejected at or after this ISO time or date (UTC)."""
    names = TopicNames(settings.topic_prefix)
    dlqs = [names.dlq(topic) for topic in topics]
    rows: list[RejectRow] = []
    records = 0
    async with DlqReader(settings) as reader:
        existing = []
        for dlq in dlqs:
            partitions, code = await reader.describe(dlq)
            if code == TOPIC_AUTHORIZATION_FAILED:
                raise AccessRefused(
                    f"{settings.kafka_sasl_username or 'this user'} may not read {dlq}: a "
                    "department reads only the rejects of the topics its agreement provides"
                )
            if partitions:
                existing.append(dlq)
        async with aclosing(reader.scan_topics(existing)) as batches:
            async for batch in batches:
                for entry in batch:
                    if since is not None and (entry.time or "") < since:
                        continue
                    records += 1
                    rows.extend(reject_rows(entry, settings.topic_prefix))
    rows.sort(key=lambda row: (row.rejected_at, row.topic, row.source_position))
    return rows, records


def render_csv(rows: Iterable[RejectRow], encoding: str) -> bytes:
    """The report as CSV bytes (CRLF line ends, as spreadsheet programs expect). Characters
    CP932 lacks become ``?``: a reason text is in English and Japanese the platform wrote."""
    if encoding not in ENCODINGS:
        raise ConfigurationError(f"encoding must be one of {', '.join(ENCODINGS)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(astuple(row))
    return out.getvalue().encode(encoding, errors="replace")
