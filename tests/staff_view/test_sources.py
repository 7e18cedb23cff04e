"""The staff view's agreement: it names the view topics the page reads, its views carry
everything the page shows (the page is the same as from the platform topics), and every
field it grants is one the page uses (no field could be dropped without changing the page)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from renkei.agreements.model import TopicGrant
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue
from staff_view.places import RegionNames
from staff_view.snapshot import snapshot
from staff_view.sources import find_agreement, load_view_sources, view_sources
from staff_view.state import EVACUATION_TOPIC, REGION_TOPIC, ViewState
from tests.staff_view.views import AGREEMENTS, as_view, staff_agreement


def _records(catalogue: Catalogue) -> list[tuple[str, dict[str, Any]]]:
    """Every example of both topics, a building added so that field counts as well."""
    records = []
    for topic in (REGION_TOPIC, EVACUATION_TOPIC):
        for example in catalogue.get(topic).examples.values():
            value = copy.deepcopy(example)
            for person in value.get("persons", []):
                if person.get("address"):
                    person["address"]["building"] = "ハイツ連携 101"
            records.append((topic, value))
    return records


def _page(records: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The snapshot of each record folded alone (examples share keys and sequences)."""
    pages = []
    for topic, value in records:
        state = ViewState()
        state.apply(topic, None, value)
        pages.append(snapshot(state, RegionNames()))
    return pages


def test_the_repository_agreement_names_the_views_and_a_catalogue_that_knows_them(
    catalogue: Catalogue,
) -> None:
    found = load_view_sources(catalogue, AGREEMENTS, "staff-view")
    assert found.agreement.consumer_group == "app-staff-view"
    assert found.agreement.zone == "lgwan" and not found.agreement.egress
    assert found.view_topics == (
        "view.staff-overview.region",
        "view.staff-overview.evacuation-support",
    )
    for topic in found.view_topics:
        assert found.catalogue.get(topic).network_zone == "LGWAN接続系"
    persons = found.catalogue.get("view.staff-overview.evacuation-support").schema
    assert "resident_key" not in str(persons) and "pseudonym_key_id" not in str(persons)


def test_the_views_carry_everything_the_page_shows(catalogue: Catalogue) -> None:
    records = _records(catalogue)
    viewed = [(topic, as_view(catalogue, topic, value)) for topic, value in records]
    assert _page(viewed) == _page(records)


def test_every_granted_field_is_one_the_page_uses(catalogue: Catalogue) -> None:
    agreement, records = staff_agreement(), _records(catalogue)
    full = _page([(t, as_view(catalogue, t, v, agreement)) for t, v in records])
    for index, grant in enumerate(agreement.topics):
        for name in grant.fields:
            fewer = TopicGrant(
                topic=grant.topic, fields=tuple(f for f in grant.fields if f != name)
            )
            topics = list(agreement.topics)
            topics[index] = fewer
            narrower = agreement.model_copy(update={"topics": tuple(topics)})
            try:
                page = _page([(t, as_view(catalogue, t, v, narrower)) for t, v in records])
            except KeyError:
                continue  # the fold needs it
            assert page != full, f"{grant.topic} {name} is granted but changes nothing shown"


@pytest.mark.parametrize(
    ("agreement_id", "message"),
    [
        ("no-such-agreement", "no agreement 'no-such-agreement'"),
        ("provider-disaster", "not a consumer agreement"),
        ("evacuation-notifier", "does not grant unified.region"),
    ],
)
def test_an_agreement_the_page_cannot_work_with_is_refused(
    catalogue: Catalogue, agreement_id: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_view_sources(catalogue, AGREEMENTS, agreement_id)


def test_an_agreement_without_the_fields_the_fold_needs_is_refused(catalogue: Catalogue) -> None:
    agreement = staff_agreement()
    region, lists = agreement.topics
    narrower = agreement.model_copy(
        update={"topics": (region, TopicGrant(topic=EVACUATION_TOPIC, fields=("list_key",)))}
    )
    with pytest.raises(ConfigurationError, match=r"needs derived.evacuation-support fields"):
        find_agreement([narrower], "staff-view")
    assert view_sources(catalogue, [agreement], "staff-view").agreement == agreement
    assert lists.topic == EVACUATION_TOPIC
