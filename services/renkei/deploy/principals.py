"""Every Kafka principal of a deployed platform (docker-compose, Strimzi) and its ACLs.

One table, generated from the contracts, that the Strimzi ``KafkaUser`` resources
(``k8s_users``), the compose deployment's ``access-apply`` service (``renkei agreements apply
--service-principals``) and the static tests all read:

- ``renkei-admin``: the only super user (``super.users`` / Strimzi ``superUsers``); no ACLs, used
  by nobody routinely (compose: the one-shot ``access-apply`` and ``schemas-apply`` jobs);
- the agreement principals (``renkei.agreements.apply.desired_acls``);
- the stage principals ``renkei-<stage>`` (``renkei.agreements.stage_principals``);
- the service principals below, one per platform process that is not a stage:

  ========================  ===================================================================
  ``renkei-<job>``          each scheduled job of the job registry (``renkei.contracts.jobs``):
                            READ its inputs, WRITE its outputs (and READ them: the job compares
                            with its last publication), WRITE ``audit.access``
  ``renkei-registry``       Apicurio kafkasql: its journal, snapshots and events topics
                            ``_renkei_schemas*`` (PREFIXED, with DESCRIBE_CONFIGS: it checks
                            the journal's settings) and consumer groups ``apicurio-*``
  ``renkei-catalogue``      the data catalogue page: DESCRIBE and READ every catalogue topic
                            and view (offsets, counts, the newest record's time; the page
                            shows no record), DESCRIBE the DLQs ``dlq.*`` (PREFIXED; counts)
  ========================  ===================================================================

Staff pages log in to Kafka as the agreement principal they read under (the staff view:
``app-staff-view``). The registry proxy's writer ``renkei-schema`` is an HTTP principal, not a
Kafka user.
"""

from __future__ import annotations

from pathlib import Path

from renkei.agreements.kafka_admin import CLUSTER_RESOURCE, Acl
from renkei.agreements.stage_principals import AUDIT_TOPIC
from renkei.contracts.jobs import JOBS, JobSpec
from renkei.contracts.names import TopicNames
from renkei.contracts.views import load_view_plans
from renkei.schemas.catalogue import Catalogue

ADMIN_USER = "renkei-admin"
"""The platform super user (the same name as the secure local stack's)."""
REGISTRY_USER = "renkei-registry"
CATALOGUE_USER = "renkei-catalogue"
SCHEMA_WRITER = "renkei-schema"
"""The registry proxy's writer (HTTP Basic), not a Kafka user."""
REGISTRY_TOPIC_PREFIX = "_renkei_schemas"
"""Apicurio's kafkasql journal (``apicurio.kafkasql.topic``), snapshots
(``apicurio.kafkasql.snapshots.topic``: ``_renkei_schemas_snapshots``) and events
(``apicurio.events.kafka.topic``: ``_renkei_schemas_events``) topics."""
REGISTRY_GROUP_PREFIX = "apicurio-"
"""Apicurio's kafkasql consumer groups (``apicurio-`` + a random id per start)."""

_NAMES = TopicNames("")


def job_principal(job: str) -> str:
    return f"renkei-{job}"


def _topic(who: str, name: str, *operations: str, pattern: str = "LITERAL") -> set[Acl]:
    return {Acl(who, "TOPIC", name, pattern, operation) for operation in operations}


def job_acls(spec: JobSpec) -> set[Acl]:
    who = f"User:{job_principal(spec.name)}"
    acls = {Acl(who, "CLUSTER", CLUSTER_RESOURCE, "LITERAL", "IDEMPOTENT_WRITE")}
    for topic in spec.inputs:
        acls |= _topic(who, topic, "READ", "DESCRIBE")
    for topic in spec.outputs:
        acls |= _topic(who, topic, "READ", "WRITE", "DESCRIBE")
    return acls | _topic(who, AUDIT_TOPIC, "WRITE", "DESCRIBE")


def registry_acls() -> set[Acl]:
    who = f"User:{REGISTRY_USER}"
    operations = ("READ", "WRITE", "DESCRIBE", "CREATE", "DESCRIBE_CONFIGS")
    acls = _topic(who, REGISTRY_TOPIC_PREFIX, *operations, pattern="PREFIXED")
    acls.add(Acl(who, "GROUP", REGISTRY_GROUP_PREFIX, "PREFIXED", "READ"))
    acls.add(Acl(who, "CLUSTER", CLUSTER_RESOURCE, "LITERAL", "IDEMPOTENT_WRITE"))
    return acls


def catalogue_topics(catalogue: Catalogue, agreements_dir: Path | None) -> list[str]:
    """The topics the catalogue page shows: the schema catalogue's and the purpose views."""
    topics = [spec.topic for spec in catalogue]
    if agreements_dir is not None:
        topics += [plan.topic for plan in load_view_plans(agreements_dir, catalogue)]
    return sorted(set(topics))


def catalogue_acls(catalogue: Catalogue, agreements_dir: Path | None) -> set[Acl]:
    who = f"User:{CATALOGUE_USER}"
    acls: set[Acl] = set()
    for topic in catalogue_topics(catalogue, agreements_dir):
        acls |= _topic(who, topic, "READ", "DESCRIBE")
    # the records held in each topic's DLQ (offsets only: DESCRIBE, never READ)
    return acls | _topic(who, _NAMES.dlq(""), "DESCRIBE", pattern="PREFIXED")


def service_acls(catalogue: Catalogue, agreements_dir: Path | None) -> dict[str, set[Acl]]:
    """Service principal → its bindings (the module docstring's table)."""
    services = {job_principal(name): job_acls(spec) for name, spec in JOBS.items()}
    services[REGISTRY_USER] = registry_acls()
    services[CATALOGUE_USER] = catalogue_acls(catalogue, agreements_dir)
    return services
