"""Agreement files: shape checks, view names, zones (contract B)."""

from __future__ import annotations

from pathlib import Path

import pytest

from renkei.agreements.model import (
    load_agreement,
    load_agreements,
    parse_agreement,
    short_name,
    stricter,
    view_topic_name,
    zone_of,
)
from renkei.errors import ConfigurationError
from renkei.settings import Settings

CONSUMER = """\
id: evac
title: t
role: consumer
principal: app-evac
department: 危機管理課
purpose: evacuation-support
legal_basis: 災害対策基本法 第49条の11
zone: lgwan
retention_days: 30
consumer_group: app-evac
topics:
  - topic: derived.evacuation-support
    fields: [alert_id, persons.resident_key]
  - topic: unified.resident
    fields: [age]
"""


def test_consumer_views_follow_the_contract_names() -> None:
    agreement = parse_agreement(CONSUMER)
    assert agreement.kafka_principal == "User:app-evac"
    assert set(agreement.views) == {
        "view.evacuation-support.evacuation-support",
        "view.evacuation-support.resident",
    }
    assert agreement.views["view.evacuation-support.resident"].fields == ("age",)
    assert view_topic_name("p", "unified.region") == "view.p.region"
    assert short_name("derived.evacuation-support") == "evacuation-support"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("consumer_group: app-evac\n", ""), "consumer_group"),
        (("purpose: evacuation-support\n", ""), "purpose"),
        (("purpose: evacuation-support", "purpose: a.b"), "purpose"),
        (("zone: lgwan", "zone: dmz"), "zone"),
        (("role: consumer", "role: admin"), "role"),
        (("retention_days: 30", "retention_days: 0"), "retention_days"),
        (("principal: app-evac", "principal: App Evac"), "principal"),
        (("fields: [age]", "fields: []"), "fields"),
        (("fields: [age]", "fields: [age, age]"), "twice"),
        (("fields: [age]", "fields: ['a..b']"), "malformed"),
        (("title: t\n", "title: t\nextra: 1\n"), "extra"),
    ],
)
def test_malformed_agreements_are_refused_with_the_reason(
    change: tuple[str, str], message: str
) -> None:
    text = CONSUMER.replace(*change)
    assert text != CONSUMER
    with pytest.raises(ConfigurationError, match=message):
        parse_agreement(text, origin="x.yaml")


def test_a_provider_has_no_purpose_group_or_egress() -> None:
    provider = CONSUMER.replace("role: consumer", "role: provider")
    with pytest.raises(ConfigurationError, match="consumers only"):
        parse_agreement(provider)


def test_file_name_must_match_id(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(CONSUMER, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="differs from the file name"):
        load_agreement(tmp_path / "other.yaml")


def test_a_principal_belongs_to_one_agreement(tmp_path: Path) -> None:
    (tmp_path / "evac.yaml").write_text(CONSUMER, encoding="utf-8")
    twin = CONSUMER.replace("id: evac", "id: twin").replace("group: app-evac", "group: app-evac-2")
    (tmp_path / "twin.yaml").write_text(twin, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="principal 'app-evac' is also used"):
        load_agreements(tmp_path)


def test_catalogue_zone_names_map_to_zone_ids() -> None:
    assert zone_of("個人番号利用事務系") == "individual_number"
    assert zone_of("LGWAN接続系") == "lgwan"
    assert zone_of("インターネット接続系") == "internet"
    assert stricter("individual_number", "lgwan") and stricter("lgwan", "internet")
    assert not stricter("internet", "lgwan")
    with pytest.raises(ConfigurationError, match="unknown network zone"):
        zone_of("DMZ")


def test_the_repository_agreements_load() -> None:
    agreements = load_agreements(Settings().agreements_dir)
    roles = {a.id: a.role for a in agreements}
    assert roles["provider-checkup"] == "provider"
    assert roles["evacuation-notifier"] == "consumer"
    assert sum(role == "provider" for role in roles.values()) == 5
