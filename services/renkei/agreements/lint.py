"""``renkei agreements check``: agreements against the schema catalogue.

Each rule returns :class:`Problem` lines; the command prints one line per problem and exits
non-zero when there is any. Classes of problems:

- ``unknown-topic`` / ``unknown-field``: the topic is not in the catalogue, a dotted field path
  is not in the topic's Avro schema (a record path such as ``address`` covers its leaves);
- ``over-broad``: a consumer asking for ``*`` (or listing every field: the raw topic) or for a
  topic other than the platform's linked outputs (``unified.*``, ``derived.*``, where 抑止
  redaction and small-cell suppression apply), a provider writing a topic owned by another
  department or by the platform;
- ``zone``: a field flowing from a stricter network zone to a looser one (個人番号利用事務系 >
  LGWAN接続系 > インターネット接続系) outside a declared egress view, an egress skipping a zone,
  or an egress declared where nothing leaves its zone;
- ``disclosure``: an egress or internet-zone consumer granted a per-event aggregate
  (``unified.region``, ``derived.region.daily-moves``: re-published on every change, so two
  records differ by one person):
  region figures leave the platform's own staff only as audited snapshots
  (``derived.region-snapshot``, docs/disclosure-control.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from renkei.agreements.model import ZONE_RANK, Agreement, TopicGrant, Zone, stricter, zone_of
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue, TopicSpec

ProblemKind = Literal[
    "invalid", "unknown-topic", "unknown-field", "over-broad", "zone", "disclosure"
]
CONSUMER_SOURCE_PREFIXES = ("unified.", "derived.")
PER_EVENT_AGGREGATES: dict[str, str | None] = {
    "unified.region": "derived.region-snapshot",
    "derived.region.daily-moves": None,
}
"""Aggregates published on every change → the audited snapshot topic to grant instead (None:
no audited snapshot carries these figures yet). A per-day record re-emitted by a correction
differs from the one before by one person, like ``unified.region``."""
PLATFORM_OWNER = "Renkei platform"


@dataclass(frozen=True)
class Problem:
    """One finding of the linter, printed as one line."""

    agreement: str
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return f"{self.agreement}: {self.kind}: {self.message}"


def schema_paths(schema: Any, prefix: str = "", named: dict[str, Any] | None = None) -> set[str]:
    """Every dotted field path of an Avro schema: leaves and the records on the way.

    Unions contribute the fields of every branch, arrays those of their items (as the catalogue's
    ``pii`` map does); named types are resolved by their short name.
    """
    named = {} if named is None else named
    paths = {prefix} if prefix else set()
    if isinstance(schema, str):
        short = schema.rpartition(".")[2]
        return paths | (schema_paths(named[short], prefix, named) if short in named else set())
    if isinstance(schema, list):
        for branch in schema:
            paths |= schema_paths(branch, prefix, named)
        return paths
    if not isinstance(schema, dict):
        return paths
    kind = schema.get("type")
    if kind == "record":
        named[str(schema["name"]).rpartition(".")[2]] = schema
        for field in schema["fields"]:
            path = f"{prefix}.{field['name']}" if prefix else str(field["name"])
            paths |= schema_paths(field["type"], path, named)
    elif kind == "array":
        paths |= schema_paths(schema["items"], prefix, named)
    elif kind == "map":
        paths |= schema_paths(schema["values"], prefix, named)
    elif isinstance(kind, (dict, list)):
        paths |= schema_paths(kind, prefix, named)
    elif kind in ("enum", "fixed"):
        named[str(schema["name"]).rpartition(".")[2]] = schema
    return paths


def _covers_everything(fields: Sequence[str], known: set[str]) -> bool:
    """True when ``fields`` (record paths cover their leaves) reach every leaf of the schema."""
    leaves = {path for path in known if not any(other.startswith(path + ".") for other in known)}
    return all(
        any(leaf == name or leaf.startswith(name + ".") for name in fields) for leaf in leaves
    )


def owner_department(spec: TopicSpec) -> str:
    """``市民課 (Citizens Division)`` → ``市民課``: the department as agreements name it."""
    owner = str(spec.metadata.get("owner_department", ""))
    return owner.split(" (", 1)[0].strip()


def _consumer_breadth(grant: TopicGrant, known: set[str]) -> list[str]:
    """Why a consumer's grant is over-broad (empty: it is not)."""
    why: list[str] = []
    if grant.all_fields:
        why.append(f"{grant.topic}: a consumer must list the fields its purpose needs, not '*'")
    elif _covers_everything(grant.fields, known):
        why.append(
            f"{grant.topic}: every field is listed, which is the raw topic; "
            "list only what the purpose needs"
        )
    if not grant.topic.startswith(CONSUMER_SOURCE_PREFIXES):
        why.append(
            f"{grant.topic}: consumers get views of unified.* / derived.* only "
            "(linked, redacted, suppressed), not of a raw topic"
        )
    return why


def _provider_breadth(agreement: Agreement, grant: TopicGrant, spec: TopicSpec) -> list[str]:
    """Why a provider's grant is over-broad: the topic belongs to someone else."""
    owner = owner_department(spec)
    if owner == agreement.department:
        return []
    whose = "the platform" if owner.startswith(PLATFORM_OWNER) else owner
    return [
        f"{grant.topic} is owned by {whose}; provider of {agreement.department} "
        "may write only its own department's topics"
    ]


def _topic_problems(agreement: Agreement, grant: TopicGrant, spec: TopicSpec) -> list[Problem]:
    """unknown-field and over-broad problems of one topic of one agreement."""
    known = schema_paths(spec.schema)
    found = [
        Problem(agreement.id, "unknown-field", f"{grant.topic} has no field {name!r}")
        for name in grant.fields
        if name != "*" and name not in known
    ]
    breadth = (
        _consumer_breadth(grant, known)
        if agreement.role == "consumer"
        else _provider_breadth(agreement, grant, spec)
    )
    return found + [Problem(agreement.id, "over-broad", why) for why in breadth]


def _zone_problems(agreement: Agreement, zones: dict[str, Zone]) -> list[Problem]:
    """Fields that leave a stricter zone for a looser one (see module docstring)."""
    found: list[Problem] = []
    steps_down = False
    for grant in agreement.topics:
        if grant.topic not in zones:
            continue
        topic_zone = zones[grant.topic]
        source, target = (
            (topic_zone, agreement.zone)
            if agreement.role == "consumer"
            else (agreement.zone, topic_zone)
        )
        if not stricter(source, target):
            continue
        steps_down = True
        fields = ", ".join(grant.fields)
        flow = f"{grant.topic} fields [{fields}] flow from zone {source} to {target}"
        if not agreement.egress:
            found.append(Problem(agreement.id, "zone", f"{flow} without a declared egress view"))
        elif ZONE_RANK[source] - ZONE_RANK[target] > 1:
            found.append(Problem(agreement.id, "zone", f"{flow}: an egress steps one zone only"))
    if agreement.egress and not steps_down:
        found.append(
            Problem(agreement.id, "zone", "egress: true but no field leaves its zone; drop it")
        )
    return found


def _disclosure_problems(agreement: Agreement) -> list[Problem]:
    """Per-event aggregates granted to a reader outside the platform's own zone."""
    if agreement.role != "consumer" or not (agreement.egress or agreement.zone == "internet"):
        return []
    return [
        Problem(
            agreement.id,
            "disclosure",
            f"{grant.topic} is re-published on every change (two records differ by one "
            f"person); outside the platform's own staff {_instead(grant.topic)}",
        )
        for grant in agreement.topics
        if grant.topic in PER_EVENT_AGGREGATES
    ]


def _instead(topic: str) -> str:
    snapshot = PER_EVENT_AGGREGATES[topic]
    if snapshot is None:
        return "it may not be granted (no audited snapshot carries it yet)"
    return f"grant the audited snapshots {snapshot} instead"


def _topic_zones(catalogue: Catalogue) -> tuple[dict[str, Zone], list[Problem]]:
    zones: dict[str, Zone] = {}
    problems: list[Problem] = []
    for spec in catalogue:
        try:
            zones[spec.topic] = zone_of(spec.network_zone)
        except ConfigurationError as exc:
            problems.append(Problem(spec.topic, "invalid", f"catalogue topic.yaml: {exc}"))
    return zones, problems


def lint_agreements(agreements: Sequence[Agreement], catalogue: Catalogue) -> list[Problem]:
    """Every problem of ``agreements`` against ``catalogue``, in file order."""
    zones, problems = _topic_zones(catalogue)
    for agreement in agreements:
        for grant in agreement.topics:
            spec = catalogue.topics.get(grant.topic)
            if spec is None:
                problems.append(
                    Problem(agreement.id, "unknown-topic", f"{grant.topic} is not in the catalogue")
                )
                continue
            problems += _topic_problems(agreement, grant, spec)
        problems += _zone_problems(agreement, zones)
        problems += _disclosure_problems(agreement)
    return problems


def format_problems(problems: Iterable[Problem]) -> list[str]:
    """One printable line per problem."""
    return [str(problem) for problem in problems]
