"""Data-sharing agreements: parse (model), lint against the catalogue (lint), apply as Kafka
SCRAM users and ACLs (apply)."""

from renkei.agreements.model import (
    ALL_FIELDS,
    ZONE_RANK,
    Agreement,
    Role,
    TopicGrant,
    Zone,
    load_agreement,
    load_agreements,
    parse_agreement,
    short_name,
    stricter,
    view_topic_name,
    zone_of,
)

__all__ = [
    "ALL_FIELDS",
    "ZONE_RANK",
    "Agreement",
    "Role",
    "TopicGrant",
    "Zone",
    "load_agreement",
    "load_agreements",
    "parse_agreement",
    "short_name",
    "stricter",
    "view_topic_name",
    "zone_of",
]
