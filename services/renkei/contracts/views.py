"""Which views exist: one per (consumer agreement, source topic), from deploy/agreements/.

A view topic ``view.<purpose>.<short>`` (CONTRACTS.md B) gets a catalogue-like
:class:`TopicSpec` built here: the projected schema, the source's partitions, key and cleanup
policy, ``FULL_TRANSITIVE`` compatibility, the consumer's network zone, the PII classes of
the kept fields (pseudonyms count as identifiers) and the retention its agreement allows
(:func:`retention_configs`). Two agreements may share a view only when they grant the same
fields (the shorter ``retention_days`` then applies); the views stage counts deliveries per
agreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from renkei.agreements.model import Agreement, load_agreements
from renkei.contracts.view_projection import (
    KEY_ID_FIELD,
    field_tree,
    has_pseudonyms,
    project_schema,
)
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue, TopicSpec, renamed

ZONE_NAMES = {
    "individual_number": "個人番号利用事務系",
    "lgwan": "LGWAN接続系",
    "internet": "インターネット接続系",
}
DAY_MS = 24 * 3600 * 1000
RESIDENT_SOURCE = "unified.resident"
IN_SCOPE_STATUS = "residing"
"""A view of ``unified.resident`` holds residents only: one who moved out (転出) or died has
left every purpose, and the view gets a tombstone for them (:meth:`ViewPlan.in_scope`)."""


@dataclass(frozen=True)
class ViewPlan:
    """One view topic: its spec, its source, its purpose and the agreements reading it."""

    spec: TopicSpec
    source: TopicSpec
    purpose: str
    fields: tuple[str, ...]
    agreements: tuple[str, ...]

    @property
    def topic(self) -> str:
        return self.spec.topic

    @property
    def uniform_region(self) -> bool:
        """Whether the view shows every person's ``region_code`` at municipality level: a view
        of ``unified.resident`` that grants the region but neither the address nor the
        protection flags. A 6-digit code given only to protected persons (their 町域 is
        withheld) would tell the consumer who is under a 支援措置, so everyone gets it."""
        if self.source.topic != "unified.resident" or "region_code" not in self.fields:
            return False
        telling = ("address", "protected", "address_redacted")
        return not any(f == t or f.startswith(f"{t}.") for f in self.fields for t in telling)

    @property
    def pseudonymous_key(self) -> bool:
        """Whether the Kafka key is a resident key (then it is pseudonymized too)."""
        return self.source.key_field == "resident_key"

    @property
    def max_age_ms(self) -> int | None:
        """How old a source record may be (by its Kafka timestamp) and still be projected into
        a ``delete`` view: its ``retention.ms``. A replay of older history would otherwise
        write records the agreement no longer allows, with a fresh timestamp that restarts
        their retention. None for a compacted view, which holds the *current* record of
        everyone in scope (see :func:`retention_configs`)."""
        if "compact" in self.spec.cleanup_policy:
            return None
        retention = int(self.spec.metadata.get("retention_ms", -1))
        return None if retention < 0 else retention

    def in_scope(self, value: dict[str, object]) -> bool:
        """Whether a (current) source record belongs in the view. A resident who moved out
        (転出) or died is out of every purpose's scope: a view keyed by the resident's
        pseudonym gets a tombstone for them instead, so compaction removes them."""
        if self.source.topic == RESIDENT_SOURCE:
            return value.get("status") == IN_SCOPE_STATUS
        return True


def _namespace(purpose: str) -> str:
    return "jp.renkei.view." + purpose.replace("-", "_")


def _pii(source: TopicSpec, fields: Iterable[str], pseudonyms: bool) -> dict[str, str]:
    tree = field_tree(fields)
    pii: dict[str, str] = {}
    for path, cls in source.pii.items():
        node: object = tree
        for part in path.split("."):
            if node is None:
                break
            if not isinstance(node, dict) or part not in node:
                node = False
                break
            node = node[part]
        if node is not False:
            pii[path] = "identifier" if path.split(".")[-1] == "resident_key" else cls
    if pseudonyms:
        pii[KEY_ID_FIELD] = "none"
    return pii


def retention_configs(source: TopicSpec, retention_days: int) -> dict[str, int]:
    """The topic metadata (``retention_ms``, ``delete_retention_ms``,
    ``max_compaction_lag_ms``) of a view of ``source`` whose agreement allows
    ``retention_days``.

    - a ``delete`` view: ``retention.ms`` = the shorter of the source's and the agreement's;
    - a compacted view holds the current record of everyone in its scope (a resident, a list,
      a region), for as long as it is current: time-based deletion (``compact,delete``) would
      drop a resident or an alert's list that merely did not change within the period, and
      consumers (the staff page) rebuild their state from the view at each start. What is no
      longer current goes within the agreement's period: a superseded value is compacted
      within ``min(1 day, retention)`` (``max.compaction.lag.ms``), a person who left gets a
      tombstone that consumers can read for ``retention_days`` (``delete.retention.ms``),
      after which compaction drops the tombstone too.
    """
    agreed_ms = retention_days * DAY_MS
    if "compact" in source.cleanup_policy:
        # A retracted value (支援措置) must not stay on disk indefinitely under its old offset.
        return {
            "retention_ms": -1,
            "max_compaction_lag_ms": min(DAY_MS, agreed_ms),
            "delete_retention_ms": agreed_ms,
        }
    source_ms = int(source.metadata.get("retention_ms", -1))
    return {"retention_ms": agreed_ms if source_ms < 0 else min(source_ms, agreed_ms)}


def view_spec(
    agreement: Agreement,
    source: TopicSpec,
    fields: tuple[str, ...],
    retention_days: int | None = None,
) -> TopicSpec:
    """The spec of ``agreement``'s view of ``source`` (ConfigurationError for unknown fields);
    ``retention_days`` overrides the agreement's (two agreements sharing the view)."""
    purpose = str(agreement.purpose)
    topic = agreement.view_topic(source.topic)
    doc = (
        f"目的「{purpose}」向けビュー（{source.topic} を協定で認められた項目に射影し、住民キーを"
        f"仮名化） / View for the purpose {purpose}: {source.topic} projected to the fields its "
        "data-sharing agreement allows, resident keys pseudonymized"
    )
    try:
        schema = project_schema(source.schema, fields, namespace=_namespace(purpose), doc=doc)
    except ConfigurationError as exc:
        raise ConfigurationError(f"agreement {agreement.id}, {source.topic}: {exc}") from exc
    metadata: dict[str, object] = {
        "topic": topic,
        "owner_department": f"Renkei platform (連携基盤) for {agreement.department}",
        "description": doc,
        "key": source.key_field,
        "partitions": source.partitions,
        "cleanup_policy": source.cleanup_policy,
        "compatibility": "FULL_TRANSITIVE",
        "network_zone": ZONE_NAMES[agreement.zone],
        "cloudevents_type": f"jp.renkei.view.{purpose}",
        "pii": _pii(source, fields, has_pseudonyms(schema)),
    }
    metadata.update(retention_configs(source, retention_days or agreement.retention_days))
    return TopicSpec(topic=topic, folder=Path("."), schema=schema, metadata=metadata)


def plan_views(agreements: Iterable[Agreement], catalogue: Catalogue) -> list[ViewPlan]:
    """Every view of the consumer agreements, sorted by topic."""
    plans: dict[str, ViewPlan] = {}
    retention_of: dict[str, int] = {}
    for agreement in agreements:
        if agreement.role != "consumer":
            continue
        for grant in agreement.topics:
            source = catalogue.get(grant.topic)
            fields = tuple(sorted(grant.fields))
            plan = plans.get(agreement.view_topic(grant.topic))
            if plan is None:
                spec = view_spec(agreement, source, fields)
                plans[spec.topic] = ViewPlan(
                    spec, source, str(agreement.purpose), fields, (agreement.id,)
                )
                retention_of[spec.topic] = agreement.retention_days
            elif plan.fields != fields:
                raise ConfigurationError(
                    f"agreements {plan.agreements[0]} and {agreement.id} share the view "
                    f"{plan.topic} but grant different fields: give them different purposes"
                )
            else:  # the shorter retention of the agreements sharing the view applies
                retention_of[plan.topic] = min(retention_of[plan.topic], agreement.retention_days)
                spec = view_spec(agreement, source, fields, retention_of[plan.topic])
                plans[plan.topic] = replace(
                    plan, spec=spec, agreements=(*plan.agreements, agreement.id)
                )
    return [plans[topic] for topic in sorted(plans)]


def load_view_plans(agreements_dir: Path, catalogue: Catalogue) -> list[ViewPlan]:
    """The views of the agreements folder (ConfigurationError when none is a consumer)."""
    plans = plan_views(load_agreements(agreements_dir), catalogue)
    if not plans:
        raise ConfigurationError(f"no consumer agreement in {agreements_dir}: no view to build")
    return plans


def view_catalogue(catalogue: Catalogue, plans: Iterable[ViewPlan], prefix: str = "") -> Catalogue:
    """``catalogue`` plus the view topics (named ``<prefix><view topic>``), so that a
    downstream app can read its view with the subscriber SDK like any catalogue topic."""
    views = {f"{prefix}{p.topic}": renamed(p.spec, f"{prefix}{p.topic}") for p in plans}
    return Catalogue(root=catalogue.root, topics={**catalogue.topics, **views})
