"""Which topics the staff view reads: the purpose views of its data-sharing agreement.

The view never reads ``unified.region`` or ``derived.evacuation-support`` itself. Its consumer
agreement (``deploy/agreements/staff-view.yaml`` by default, ``RENKEI_STAFF_VIEW_AGREEMENT``)
names a purpose, and the views stage (``renkei worker views``) projects both topics to
``view.<purpose>.region`` and ``view.<purpose>.evacuation-support`` with only the agreed fields.
The subscriber SDK reads them through a catalogue that includes the view topics
(``renkei.contracts.views.view_catalogue``), in consumer groups under the agreement's
``consumer_group`` (the prefix its Kafka ACL allows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from renkei.agreements.model import Agreement, load_agreements
from renkei.contracts.views import plan_views, view_catalogue
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue
from staff_view.state import EVACUATION_TOPIC, REGION_TOPIC

# What the fold cannot do without (state.py, snapshot.py): an agreement that leaves one out
# is refused at start instead of failing on the first record.
REQUIRED_FIELDS = {
    REGION_TOPIC: ("region_code", "sequence"),
    EVACUATION_TOPIC: (
        "list_key",
        "sequence",
        "status",
        "alert_id",
        "region_code",
        "level",
        "hazard",
        "information_name",
        "mode",
        "issued_at",
        "count",
        "persons.address_withheld",
        "persons.household_number",
    ),
}


@dataclass(frozen=True)
class ViewSources:
    """The agreement, its view topic per source topic, and a catalogue that knows the views."""

    agreement: Agreement
    views: dict[str, str]
    catalogue: Catalogue

    @property
    def view_topics(self) -> tuple[str, ...]:
        return tuple(self.views[topic] for topic in (REGION_TOPIC, EVACUATION_TOPIC))


def group_id(topic_prefix: str, agreement: Agreement, token: str, view_topic: str) -> str:
    """The consumer group of one view for one start: ``<topic prefix><consumer_group>-<token>-
    <view topic>``, inside the group prefix the agreement's ACL allows (no topic prefix in
    production)."""
    return f"{topic_prefix}{agreement.consumer_group}-{token}-{view_topic}"


def find_agreement(agreements: list[Agreement], agreement_id: str) -> Agreement:
    """The consumer agreement ``agreement_id`` granting both source topics with the fields the
    fold needs; ConfigurationError saying what is missing otherwise."""
    found = {agreement.id: agreement for agreement in agreements}.get(agreement_id)
    if found is None:
        known = ", ".join(sorted(a.id for a in agreements if a.role == "consumer"))
        raise ConfigurationError(f"no agreement {agreement_id!r}; consumer agreements: {known}")
    if found.role != "consumer":
        raise ConfigurationError(f"agreement {agreement_id!r} is not a consumer agreement")
    grants = {grant.topic: grant for grant in found.topics}
    for topic, needed in REQUIRED_FIELDS.items():
        if topic not in grants:
            raise ConfigurationError(f"agreement {agreement_id!r} does not grant {topic}")
        missing = [name for name in needed if name not in grants[topic].fields]
        if missing:
            raise ConfigurationError(
                f"agreement {agreement_id!r}: the staff view needs {topic} fields {missing}"
            )
    return found


def view_sources(
    catalogue: Catalogue, agreements: list[Agreement], agreement_id: str
) -> ViewSources:
    """The view topics of ``agreement_id`` and the catalogue to read them with."""
    agreement = find_agreement(agreements, agreement_id)
    plans = [p for p in plan_views([agreement], catalogue) if p.source.topic in REQUIRED_FIELDS]
    views = {plan.source.topic: plan.topic for plan in plans}
    return ViewSources(agreement, views, view_catalogue(catalogue, plans))


def load_view_sources(catalogue: Catalogue, agreements_dir: Path, agreement_id: str) -> ViewSources:
    """:func:`view_sources` of the agreements folder (every file must parse)."""
    return view_sources(catalogue, load_agreements(agreements_dir), agreement_id)
