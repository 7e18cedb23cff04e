"""A reference release as records of the ``ref.*`` topics, and back.

``release_records`` gives what ``renkei ref load`` publishes: one record per municipality code
(``ref.municipalities``), per postal code (``ref.postal``) and per code list (``ref.codes``),
each carrying the release's name, then the manifest (``ref.releases``) with the count per topic.
A worker holding as many records of a release per topic as its manifest lists has the whole
release (:class:`ReleaseAssembler`); ``release_from_records`` turns them back into a
:class:`ReferenceRelease`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from renkei.reference.municipalities import FormerName, Municipalities, Municipality
from renkei.reference.release import CodeEntry, CodeList, PostalRow, ReferenceRelease

__all__ = [
    "CODES",
    "MUNICIPALITIES",
    "POSTAL",
    "REFERENCE_TOPICS",
    "RELEASES",
    "RELEASE_HEADER",
    "ReleaseAssembler",
    "release_from_records",
    "release_records",
]

MUNICIPALITIES: Final = "ref.municipalities"
POSTAL: Final = "ref.postal"
CODES: Final = "ref.codes"
RELEASES: Final = "ref.releases"
DATA_TOPICS: Final = (MUNICIPALITIES, POSTAL, CODES)
REFERENCE_TOPICS: Final = (*DATA_TOPICS, RELEASES)
RELEASE_HEADER: Final = "renkei.ref.release"
"""Header naming a reference record's release (a worker reads it without decoding the value)."""
_NAMESPACE: Final = uuid.UUID("5f1c3a52-3a0e-4b8e-9a57-2f4d3c1b7e10")

Record = tuple[str, str, dict[str, Any]]  # (contract topic, key, datum)


def _envelope(release: ReferenceRelease, key: str, owner: str, at: dt.datetime) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid5(_NAMESPACE, f"{release.version}/{key}")),
        "municipality_code": owner,
        "effective_date": release.reference_date,
        "recorded_at": at,
        "sequence": int(at.timestamp() * 1000),
        "release": release.version,
    }


def release_records(
    release: ReferenceRelease, *, owner: str, published_at: dt.datetime
) -> Iterator[Record]:
    """Every record of ``release``, the manifest last (``owner``: the publishing municipality)."""
    counts = {topic: 0 for topic in DATA_TOPICS}
    for m in release.municipalities.by_code.values():
        counts[MUNICIPALITIES] += 1
        yield (
            MUNICIPALITIES,
            m.code,
            {
                **_envelope(release, f"m/{m.code}", owner, published_at),
                "code": m.code,
                "prefecture": m.prefecture,
                "name": m.name,
                "valid_from": m.valid_from,
                "valid_to": m.valid_to,
                "successors": list(m.successors),
                "predecessors": list(m.predecessors),
                "former_names": [{"name": f.name, "valid_to": f.valid_to} for f in m.former_names],
                "change_kind": m.change_kind,
                "sources": list(m.sources),
            },
        )
    for postal_code, rows in release.postal.items():
        counts[POSTAL] += 1
        yield (
            POSTAL,
            postal_code,
            {
                **_envelope(release, f"p/{postal_code}", owner, published_at),
                "postal_code": postal_code,
                "rows": [
                    {
                        "municipality_code": r.municipality_code,
                        "prefecture": r.prefecture,
                        "city": r.city,
                        "town": r.town,
                        "note": r.note,
                        "chome": r.chome,
                        "valid_to": r.valid_to,
                    }
                    for r in rows
                ],
            },
        )
    for code_list in release.code_lists.values():
        counts[CODES] += 1
        yield (
            CODES,
            code_list.name,
            {
                **_envelope(release, f"c/{code_list.name}", owner, published_at),
                "list": code_list.name,
                "description": code_list.description,
                "entries": [
                    {
                        "code": e.code,
                        "name": e.name,
                        "valid_from": e.valid_from,
                        "valid_to": e.valid_to,
                    }
                    for e in code_list.entries
                ],
            },
        )
    yield (
        RELEASES,
        release.version,
        {
            **_envelope(release, "release", owner, published_at),
            "counts": counts,
            "postal_data": release.postal_data,
            "sources": list(release.sources),
            "note": release.note,
        },
    )


def release_from_records(
    manifest: Mapping[str, Any],
    municipalities: Iterable[Mapping[str, Any]],
    postal: Iterable[Mapping[str, Any]],
    codes: Iterable[Mapping[str, Any]],
) -> ReferenceRelease:
    """The release a manifest and its decoded records describe."""
    table = Municipalities.of(
        Municipality(
            code=m["code"],
            prefecture=m["prefecture"],
            name=m["name"],
            valid_from=m["valid_from"],
            valid_to=m["valid_to"],
            successors=tuple(m["successors"]),
            predecessors=tuple(m["predecessors"]),
            former_names=tuple(FormerName(f["name"], f["valid_to"]) for f in m["former_names"]),
            change_kind=m["change_kind"],
            sources=tuple(m["sources"]),
        )
        for m in municipalities
    )
    rows = {
        p["postal_code"]: tuple(
            PostalRow(
                r["municipality_code"],
                r["prefecture"],
                r["city"],
                r["town"],
                r["note"],
                r["chome"],
                r["valid_to"],
            )
            for r in p["rows"]
        )
        for p in postal
    }
    lists = {
        c["list"]: CodeList(
            c["list"],
            c["description"],
            tuple(
                CodeEntry(e["code"], e["name"], e["valid_from"], e["valid_to"])
                for e in c["entries"]
            ),
        )
        for c in codes
    }
    return ReferenceRelease(
        version=manifest["release"],
        reference_date=manifest["effective_date"],
        postal_data=manifest["postal_data"],
        municipalities=table,
        postal=dict(sorted(rows.items())),
        code_lists=lists,
        sources=tuple(manifest["sources"]),
        note=manifest["note"],
        counts=dict(manifest["counts"]),
    )


@dataclass
class ReleaseAssembler:
    """The latest record per key of each ``ref.*`` topic (release name + encoded value), and the
    manifests; says which release is complete. Values stay encoded until a release is built
    (a whole country's postal rows decoded would hold ~10× the memory)."""

    records: dict[str, dict[bytes, tuple[str, bytes]]] = field(
        default_factory=lambda: {topic: {} for topic in DATA_TOPICS}
    )
    manifests: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def add(self, topic: str, key: bytes, release: str | None, value: bytes | None) -> None:
        """Keep one record (``release`` None: a tombstone, the key is dropped)."""
        table = self.records[topic]
        if release is None or value is None:
            table.pop(key, None)
        else:
            table[key] = (release, value)

    def add_manifest(self, manifest: Mapping[str, Any]) -> None:
        self.manifests[manifest["release"]] = manifest

    def newest_complete(self) -> Mapping[str, Any] | None:
        """The manifest published last whose records are all here, or None."""
        for manifest in sorted(self.manifests.values(), key=_published, reverse=True):
            if self.complete(manifest):
                return manifest
        return None

    def complete(self, manifest: Mapping[str, Any]) -> bool:
        release = manifest["release"]
        return all(
            sum(1 for name, _ in self.records[topic].values() if name == release) == count
            for topic, count in manifest["counts"].items()
            if topic in self.records
        )

    def values_of(self, topic: str, release: str) -> list[bytes]:
        return [value for name, value in self.records[topic].values() if name == release]


def _published(manifest: Mapping[str, Any]) -> dt.datetime:
    at: dt.datetime = manifest["recorded_at"]
    return at
