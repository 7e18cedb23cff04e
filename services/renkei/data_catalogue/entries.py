"""One entry per topic: what the schema catalogue and the agreements say about it.

The topics are the catalogue's folders plus the purpose views the consumer agreements create
(``renkei.contracts.views``); nothing here is kept by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renkei.agreements.model import Agreement, load_agreements, zone_of
from renkei.contracts.views import ViewPlan, plan_views
from renkei.data_catalogue.access import Access, AccessIndex, StageIO, stage_topics
from renkei.data_catalogue.fields import FieldDoc, schema_fields, split_doc
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue, TopicSpec

ROLE_ORDER = ("department", "standardized", "unified", "derived", "view", "internal", "audit")
PII_ORDER = ("sensitive", "identifier", "personal", "location", "none")
"""Most to least protective: a record field shows the classes of its leaves in this order."""


@dataclass(frozen=True)
class TopicEntry:
    """What a staff member reads about one topic."""

    spec: TopicSpec
    role: str
    fields: tuple[FieldDoc, ...]
    pii: dict[str, list[str]]
    """Field path → its PII class (a leaf) or the classes of its leaves (a record)."""
    access: Access
    view_of: str | None = None
    purpose: str | None = None

    @property
    def topic(self) -> str:
        return self.spec.topic

    def as_json(self) -> dict[str, Any]:
        meta = self.spec.metadata
        description_ja, description_en = split_doc(str(meta.get("description", "")))
        zone = self.spec.network_zone
        retention = meta.get("retention_ms")
        return {
            "topic": self.topic,
            "role": self.role,
            "owner_department": str(meta.get("owner_department", "")),
            "description_ja": description_ja,
            "description_en": description_en,
            "source_system": self.spec.source_system or None,
            "key": self.spec.key_field,
            "partitions": self.spec.partitions,
            "cleanup_policy": self.spec.cleanup_policy,
            "retention_ms": None if retention is None else int(retention),
            "compatibility": self.spec.compatibility,
            "network_zone": zone,
            "zone": zone_of(zone) if zone else None,
            "view_of": self.view_of,
            "purpose": self.purpose,
            "pii_summary": _pii_summary(self.pii),
            "fields": [{**f.as_json(), "pii": self.pii.get(f.path, [])} for f in self.fields],
            "access": self.access.as_json(),
        }


def _pii_summary(pii: dict[str, list[str]]) -> list[str]:
    found = {cls for classes in pii.values() for cls in classes}
    return [cls for cls in PII_ORDER if cls in found]


def field_pii(spec: TopicSpec, fields: list[FieldDoc]) -> dict[str, list[str]]:
    """Each field's PII class from ``topic.yaml``; a record field gets its leaves' classes.
    A leaf the catalogue does not classify is an error (the catalogue's self-test should have
    caught it)."""
    declared = spec.pii
    pii: dict[str, list[str]] = {}
    for f in fields:
        if f.path in declared:
            pii[f.path] = [declared[f.path]]
            continue
        below = {cls for path, cls in declared.items() if path.startswith(f.path + ".")}
        if not below:
            raise ConfigurationError(f"{spec.topic}: field {f.path} has no PII class in topic.yaml")
        pii[f.path] = [cls for cls in PII_ORDER if cls in below]
    return pii


def _entry(spec: TopicSpec, access: AccessIndex, plan: ViewPlan | None = None) -> TopicEntry:
    fields = schema_fields(spec.schema)
    return TopicEntry(
        spec=spec,
        role="view" if plan else spec.role,
        fields=tuple(fields),
        pii=field_pii(spec, fields),
        access=access.of(spec.topic),
        view_of=plan.source.topic if plan else None,
        purpose=plan.purpose if plan else None,
    )


@dataclass(frozen=True)
class CatalogueModel:
    """Every topic's entry, the agreements and view plans they came from."""

    entries: dict[str, TopicEntry]
    agreements: tuple[Agreement, ...]
    plans: tuple[ViewPlan, ...]
    stages: tuple[StageIO, ...]
    catalogue: Catalogue = field(repr=False)

    def ordered(self) -> list[TopicEntry]:
        """Department topics first, then along the pipeline; by name within a role."""
        rank = {role: n for n, role in enumerate(ROLE_ORDER)}
        return sorted(self.entries.values(), key=lambda e: (rank.get(e.role, 99), e.topic))


def build_model(catalogue: Catalogue, agreements_dir: Path) -> CatalogueModel:
    """Entries for the catalogue's topics and the purpose views of the agreements in
    ``agreements_dir``, with the stages' topics from the stage registry."""
    agreements = load_agreements(agreements_dir)
    plans = plan_views(agreements, catalogue)
    stages = stage_topics(catalogue, agreements_dir)
    access = AccessIndex(stages, plans, agreements)
    entries = {spec.topic: _entry(spec, access) for spec in catalogue}
    for plan in plans:
        entries[plan.topic] = _entry(plan.spec, access, plan)
    return CatalogueModel(entries, tuple(agreements), tuple(plans), tuple(stages), catalogue)
