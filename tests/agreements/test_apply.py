"""From agreements to ACL bindings and change lines (the live apply is in tests/security)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from renkei.agreements.apply import (
    ApplyReport,
    acl_changes,
    apply_agreements,
    audit_details,
    desired_acls,
)
from renkei.agreements.kafka_admin import Acl, salted_password
from renkei.agreements.model import load_agreements
from renkei.errors import ConfigurationError
from renkei.settings import Settings

AGREEMENTS = {a.id: a for a in load_agreements(Settings().agreements_dir)}


def test_a_provider_writes_its_own_topics_and_reads_only_their_rejects() -> None:
    acls = desired_acls(AGREEMENTS["provider-checkup"])
    who = "User:dept-checkup"
    assert acls == {
        Acl(who, "CLUSTER", "kafka-cluster", "LITERAL", "IDEMPOTENT_WRITE"),
        Acl(who, "TOPIC", "health.checkup.results", "LITERAL", "WRITE"),
        Acl(who, "TOPIC", "health.checkup.results", "LITERAL", "DESCRIBE"),
        # its own dead-letter topic, for `renkei dlq report --department` (no write, no group)
        Acl(who, "TOPIC", "dlq.health.checkup.results", "LITERAL", "READ"),
        Acl(who, "TOPIC", "dlq.health.checkup.results", "LITERAL", "DESCRIBE"),
        # its bulk lane (the yearly batch), as the agreement lists it
        Acl(who, "TOPIC", "health.checkup.results.bulk", "LITERAL", "WRITE"),
        Acl(who, "TOPIC", "health.checkup.results.bulk", "LITERAL", "DESCRIBE"),
        Acl(who, "TOPIC", "dlq.health.checkup.results.bulk", "LITERAL", "READ"),
        Acl(who, "TOPIC", "dlq.health.checkup.results.bulk", "LITERAL", "DESCRIBE"),
    }


def test_a_consumer_reads_its_views_and_its_group_prefix_only() -> None:
    acls = desired_acls(AGREEMENTS["health-promotion"])
    who = "User:app-health-promotion"
    assert acls == {
        Acl(who, "TOPIC", "view.health-promotion.resident", "LITERAL", "READ"),
        Acl(who, "TOPIC", "view.health-promotion.resident", "LITERAL", "DESCRIBE"),
        Acl(who, "GROUP", "app-health-promotion", "PREFIXED", "READ"),
    }
    every = set().union(*(desired_acls(a) for a in AGREEMENTS.values()))
    consumer_topics = {
        acl.resource_name
        for acl in every
        if acl.resource_type == "TOPIC" and acl.principal.startswith("User:app-")
    }
    assert all(topic.startswith("view.") for topic in consumer_topics)
    assert not any(acl.pattern == "PREFIXED" and acl.resource_type == "TOPIC" for acl in every)


def test_report_lines_and_audit_details_hold_no_secrets() -> None:
    added = Acl("User:x", "TOPIC", "t", "LITERAL", "READ")
    report = ApplyReport(users_created=["x"], acls_added=[added])
    assert report.changed
    assert report.lines() == [
        f"user    {'x':<32} created",
        "acl   + User:x READ TOPIC t (LITERAL)",
    ]
    details = audit_details([AGREEMENTS["provider-checkup"]], report)
    assert details["acls_added"] == 1 and details["agreements"] == ["provider-checkup"]
    assert acl_changes(report) == {"User:x": {"added": [added.describe()], "removed": []}}
    assert not ApplyReport().changed


def test_scram_salted_password_is_pbkdf2_hmac_sha512() -> None:
    # The published PBKDF2-HMAC-SHA512 vector ("password", "salt", 1 iteration).
    assert salted_password("password", b"salt", 1).hex() == (
        "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
        "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"
    )


def test_apply_refuses_a_plaintext_broker(tmp_path: Path) -> None:
    """No users or ACLs are attempted on the plain stack (it has no authorizer)."""
    settings = Settings(home=tmp_path, kafka_security_protocol="PLAINTEXT")
    with pytest.raises(ConfigurationError, match="needs an authenticated broker"):
        asyncio.run(apply_agreements(settings, list(AGREEMENTS.values())))
    assert not (tmp_path / "secrets").exists()
