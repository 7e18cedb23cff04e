"""Data-sharing agreements (データ提供に関する取決め): one YAML file per agreement.

An agreement names a Kafka principal and what it may do: a *provider* (a department system)
writes its own department topics; a *consumer* (a downstream app) reads the purpose views
``view.<purpose>.<short>`` projected from the source topics it lists, keeping only the listed
fields. The file format is contract B (CONTRACTS.md); docs/security.md describes it.

This module only parses and checks the *shape* of a file. Whether topics and fields exist, whether
a grant is too broad and whether a field crosses zones is ``renkei.agreements.lint``'s job (it
needs the catalogue).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from renkei.errors import ConfigurationError

Role = Literal["provider", "consumer"]
# 三層分離 (three-zone separation, 総務省 guideline): 個人番号利用事務系 (individual_number) is the
# strictest, LGWAN接続系 (lgwan) next, インターネット接続系 (internet) the loosest.
Zone = Literal["individual_number", "lgwan", "internet"]
ZONE_RANK: dict[str, int] = {"internet": 0, "lgwan": 1, "individual_number": 2}
ALL_FIELDS = "*"
VIEW_PREFIX = "view."

# topic.yaml ``network_zone`` values (Japanese names of the guideline) → zone ids.
_CATALOGUE_ZONES: dict[str, Zone] = {
    "個人番号利用事務系": "individual_number",
    "lgwan接続系": "lgwan",
    "インターネット接続系": "internet",
    "individual_number": "individual_number",
    "lgwan": "lgwan",
    "internet": "internet",
}
_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")
"""Principals, ids and consumer groups: no trailing separator (``app-`` reads as a prefix)."""
PLATFORM_PREFIX = "renkei"
"""Principals and consumer groups starting with this are the platform's: the super user
``renkei-admin``, the stage principals ``renkei-<stage>`` and groups ``renkei-<stage>``, the
schema and audit principals. No agreement may name one (docs/security.md)."""
RESERVED_PRINCIPALS = frozenset({"anonymous", "admin", "root", "kafka"})
"""Further names no agreement may take (Kafka's ``User:ANONYMOUS``, common super users)."""


def is_platform_principal(name: str) -> bool:
    """True for a principal reserved for the platform (never created or deleted by agreements)."""
    lowered = name.lower()
    return lowered.startswith(PLATFORM_PREFIX) or lowered in RESERVED_PRINCIPALS


def groups_overlap(a: str, b: str) -> bool:
    """True when a PREFIXED group ACL on one of ``a``/``b`` covers the other's groups."""
    return a.startswith(b) or b.startswith(a)


_FIELD = re.compile(r"^(\*|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$")


def zone_of(network_zone: str) -> Zone:
    """The zone id of a catalogue ``network_zone`` (e.g. ``LGWAN接続系`` → ``lgwan``)."""
    try:
        return _CATALOGUE_ZONES[network_zone.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(_CATALOGUE_ZONES))
        raise ConfigurationError(f"unknown network zone {network_zone!r}; known: {known}") from None


def stricter(a: Zone, b: Zone) -> bool:
    """True when zone ``a`` is stricter than zone ``b`` (a flow a → b steps a zone down)."""
    return ZONE_RANK[a] > ZONE_RANK[b]


def short_name(topic: str) -> str:
    """``unified.resident`` → ``resident``: the topic without its first dotted segment."""
    head, sep, rest = topic.partition(".")
    return rest if sep and rest else head


def view_topic_name(purpose: str, source_topic: str) -> str:
    """The purpose view of ``source_topic``: ``view.<purpose>.<short>``."""
    return f"{VIEW_PREFIX}{purpose}.{short_name(source_topic)}"


class TopicGrant(BaseModel):
    """One topic of an agreement with the field paths (dotted) it covers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str = Field(min_length=1)
    fields: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_fields(self) -> TopicGrant:
        bad = [name for name in self.fields if not _FIELD.match(name)]
        if bad:
            raise ValueError(f"{self.topic}: malformed field paths {bad}")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError(f"{self.topic}: a field is listed twice")
        return self

    @property
    def all_fields(self) -> bool:
        """True for ``fields: ["*"]`` (allowed for providers only; the linter says so)."""
        return ALL_FIELDS in self.fields


class Agreement(BaseModel):
    """One data-sharing agreement (contract B)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str = Field(min_length=1)
    role: Role
    principal: str
    department: str = Field(min_length=1)
    purpose: str | None = None
    legal_basis: str = Field(min_length=1)
    zone: Zone
    retention_days: int = Field(ge=1)
    consumer_group: str | None = None
    egress: bool = False
    topics: tuple[TopicGrant, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_shape(self) -> Agreement:
        for label, value in (("id", self.id), ("principal", self.principal)):
            if not _NAME.match(value):
                raise ValueError(
                    f"{label} {value!r}: use lower-case letters, digits, . _ - "
                    "(starting and ending with a letter or digit)"
                )
        if is_platform_principal(self.principal):
            raise ValueError(
                f"principal {self.principal!r} is reserved for the platform "
                f"({PLATFORM_PREFIX}*, {', '.join(sorted(RESERVED_PRINCIPALS))}); "
                "an agreement names its own department or app principal"
            )
        if self.role == "consumer":
            if not self.purpose or not _NAME.match(self.purpose) or "." in self.purpose:
                raise ValueError("a consumer needs a purpose (lower-case, digits, - _; no dots)")
            if not self.consumer_group:
                raise ValueError("a consumer needs a consumer_group")
            self._check_group(self.consumer_group)
        else:
            if self.purpose or self.consumer_group or self.egress:
                raise ValueError("purpose, consumer_group and egress are for consumers only")
        names = [grant.topic for grant in self.topics]
        if len(set(names)) != len(names):
            raise ValueError("a topic is listed twice")
        return self

    def _check_group(self, group: str) -> None:
        """The group is the principal's own: its name, or its name + ``-``/``.`` + a suffix
        (the ACL is PREFIXED on it, so a short group would cover other apps' groups)."""
        if not _NAME.match(group):
            raise ValueError(
                f"consumer_group {group!r}: use lower-case letters, digits, . _ - "
                "(starting and ending with a letter or digit)"
            )
        if groups_overlap(group, PLATFORM_PREFIX):
            raise ValueError(
                f"consumer_group {group!r} overlaps the platform's groups ({PLATFORM_PREFIX}-*)"
            )
        own = group == self.principal or group.startswith(
            (f"{self.principal}-", f"{self.principal}.")
        )
        if not own:
            raise ValueError(
                f"consumer_group {group!r} must be the principal's own: {self.principal!r} "
                f"or {self.principal!r} followed by - or . and a suffix"
            )

    @property
    def kafka_principal(self) -> str:
        """The principal as Kafka ACLs name it."""
        return f"User:{self.principal}"

    def view_topic(self, source_topic: str) -> str:
        """The view topic this consumer reads for ``source_topic``."""
        if self.purpose is None:
            raise ConfigurationError(f"agreement {self.id}: a provider has no view topics")
        return view_topic_name(self.purpose, source_topic)

    @property
    def views(self) -> dict[str, TopicGrant]:
        """Consumer: view topic → the grant it projects (source topic and allowed fields)."""
        if self.role != "consumer":
            return {}
        return {self.view_topic(grant.topic): grant for grant in self.topics}

    @property
    def topic_names(self) -> tuple[str, ...]:
        return tuple(grant.topic for grant in self.topics)


def parse_agreement(text: str, *, origin: str = "<text>") -> Agreement:
    """Parse one agreement from YAML text; ConfigurationError names ``origin`` and the problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{origin}: expected a mapping of agreement fields")
    try:
        return Agreement.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'agreement'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"{origin}: {problems}") from exc


def load_agreement(path: Path) -> Agreement:
    """Read one agreement file; its ``id`` must equal the file name stem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc}") from exc
    agreement = parse_agreement(text, origin=str(path))
    if agreement.id != path.stem:
        raise ConfigurationError(f"{path}: id {agreement.id!r} differs from the file name")
    return agreement


def agreement_files(folder: Path) -> list[Path]:
    """The agreement files of ``folder`` (``*.yaml`` and ``*.yml``), sorted."""
    if not folder.is_dir():
        raise ConfigurationError(f"agreements folder not found: {folder}")
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def check_unique(agreements: Iterable[Agreement]) -> list[str]:
    """Problems across files: a principal used by two agreements, a consumer group equal to or
    a prefix of another agreement's (its PREFIXED ACL would cover the other's groups)."""
    problems: list[str] = []
    principals: dict[str, str] = {}
    groups: dict[str, str] = {}
    for agreement in agreements:
        if agreement.principal in principals:
            problems.append(
                f"{agreement.id}: principal {agreement.principal!r} is also used by agreement "
                f"{principals[agreement.principal]}"
            )
        else:
            principals[agreement.principal] = agreement.id
        group = agreement.consumer_group
        if not group:
            continue
        for other, owner in groups.items():
            if group == other:
                problems.append(
                    f"{agreement.id}: consumer_group {group!r} is also used by agreement {owner}"
                )
            elif groups_overlap(group, other):
                problems.append(
                    f"{agreement.id}: consumer_group {group!r} overlaps {other!r} of agreement "
                    f"{owner} (one is a prefix of the other, so its ACL covers the other's groups)"
                )
        groups.setdefault(group, agreement.id)
    return problems


def load_agreements(folder: Path) -> list[Agreement]:
    """Every agreement under ``folder``; ConfigurationError listing all problems at once."""
    agreements: list[Agreement] = []
    problems: list[str] = []
    for path in agreement_files(folder):
        try:
            agreements.append(load_agreement(path))
        except ConfigurationError as exc:
            problems.append(str(exc))
    problems += check_unique(agreements)
    if problems:
        raise ConfigurationError("\n".join(problems))
    return agreements
