"""Agreements cannot be abused (issue 14): groups that cover other apps' groups, platform
principals, withdrawals that would delete the super user, views of unchecked or internal
topics. Pure logic; the live refusal by the broker is in test_stage_principals.py."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from renkei.agreements.apply import ApplyReport, _apply_users
from renkei.agreements.model import (
    check_unique,
    is_platform_principal,
    load_agreements,
    parse_agreement,
)
from renkei.cli import cli
from renkei.errors import ConfigurationError
from renkei.privacy.protection import protect_output
from renkei.settings import Settings
from renkei.stack.secure import ADMIN_USER, ensure_password, password_file
from renkei.stages.views.stage import build_views

REPO = Path(__file__).resolve().parents[2]
AGREEMENTS = REPO / "deploy" / "agreements"

CONSUMER = """\
id: {id}
title: t
role: consumer
principal: {principal}
department: 危機管理課
purpose: {purpose}
legal_basis: 災害対策基本法 第49条の11
zone: lgwan
retention_days: 30
consumer_group: {group}
topics:
  - topic: {topic}
    fields: [age]
"""


def consumer(
    *,
    id: str = "x",
    principal: str = "app-x",
    group: str | None = None,
    purpose: str = "p",
    topic: str = "unified.resident",
) -> str:
    return CONSUMER.format(
        id=id, principal=principal, group=group or principal, purpose=purpose, topic=topic
    )


@pytest.mark.parametrize(
    ("principal", "group", "message"),
    [
        ("app-x", "app-", "consumer_group"),  # a trailing separator reads as a prefix
        ("app-x", "app", "must be the principal's own"),  # covers every app-* group
        ("app-x", "app-evacuation-notifier", "must be the principal's own"),
        ("app-x", "renkei-views", "platform"),
        ("r", "r", "platform"),  # 'r' is a prefix of renkei-*
        ("app-", "app-", "principal"),
    ],
)
def test_a_consumer_group_covering_other_groups_is_refused(
    principal: str, group: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_agreement(consumer(principal=principal, group=group))


def test_the_own_group_and_its_suffixes_are_accepted() -> None:
    assert parse_agreement(consumer(group="app-x")).consumer_group == "app-x"
    assert parse_agreement(consumer(group="app-x-blue")).consumer_group == "app-x-blue"


def test_overlapping_groups_of_two_agreements_are_refused() -> None:
    short = parse_agreement(consumer(id="a", principal="app-staff", purpose="a"))
    long = parse_agreement(consumer(id="b", principal="app-staff-view", purpose="b"))
    problems = check_unique([short, long])
    assert len(problems) == 1 and "overlaps 'app-staff'" in problems[0]
    assert check_unique(load_agreements(AGREEMENTS)) == []


@pytest.mark.parametrize("principal", [ADMIN_USER, "renkei-views", "renkei-audit", "anonymous"])
def test_an_agreement_naming_a_platform_principal_is_refused(principal: str) -> None:
    assert is_platform_principal(principal)
    with pytest.raises(ConfigurationError, match="reserved for the platform"):
        parse_agreement(consumer(principal=principal, group="app-x"))


def test_agreements_check_refuses_the_super_user_and_an_overlapping_group(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "agreements"
    shutil.copytree(AGREEMENTS, folder)
    (folder / "grab.yaml").write_text(consumer(id="grab", principal=ADMIN_USER, group="app-g"))
    (folder / "wide.yaml").write_text(
        consumer(id="wide", principal="app-evacuation", group="app-evacuation", purpose="w")
    )
    result = CliRunner().invoke(cli, ["agreements", "check", "--dir", str(folder)])
    assert result.exit_code != 0
    assert "reserved for the platform" in result.output
    assert "wide: invalid: consumer_group 'app-evacuation' overlaps 'app-evacuation-notifier'" in (
        result.output
    )


class _Access:
    """Records what the apply would do to the cluster's SCRAM users."""

    def __init__(self, existing: set[str]):
        self.existing = existing
        self.deleted: list[str] = []

    async def scram_users(self) -> set[str]:
        return set(self.existing)

    async def upsert_scram_user(self, user: str, password: str) -> None:
        self.existing.add(user)

    async def delete_scram_user(self, user: str) -> None:
        self.deleted.append(user)


def test_withdrawal_never_deletes_a_platform_principal_or_its_password(tmp_path: Path) -> None:
    """An applied.json naming the super user (an agreement applied before names were reserved,
    or an edited state) must not make the next apply delete it."""
    settings = Settings(home=tmp_path)
    ensure_password(tmp_path, ADMIN_USER)
    ensure_password(tmp_path, "app-gone")
    access = _Access({ADMIN_USER, "app-gone"})
    state = {ADMIN_USER: {"agreement": "grab"}, "app-gone": {"agreement": "gone"}}
    report = ApplyReport()
    new_state = asyncio.run(_apply_users(access, settings, [], state, None, report))  # type: ignore[arg-type]
    assert new_state == {}
    assert access.deleted == ["app-gone"] and report.users_deleted == ["app-gone"]
    assert password_file(tmp_path, ADMIN_USER).is_file()
    assert not password_file(tmp_path, "app-gone").exists()


def test_the_views_stage_lints_the_agreements_at_start(tmp_path: Path) -> None:
    """An agreement for the internal facts topic would be projected unredacted: refused."""
    folder = tmp_path / "agreements"
    shutil.copytree(AGREEMENTS, folder)
    (folder / "facts.yaml").write_text(
        consumer(
            id="facts", principal="app-facts", purpose="facts", topic="internal.resident.facts"
        )
    )
    settings = Settings(home=tmp_path, agreements_dir=folder)
    with pytest.raises(ConfigurationError, match="refuses the agreements") as caught:
        build_views(settings, web_port=16998)
    assert "facts: over-broad: internal.resident.facts" in str(caught.value)


def test_protect_output_refuses_a_topic_without_a_rule() -> None:
    record: dict[str, Any] = {"resident_key": "k", "address": {"line": "x"}}
    with pytest.raises(ValueError, match="no protection rule"):
        protect_output("internal.resident.facts", record)
