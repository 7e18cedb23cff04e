"""Per-stage principals (``renkei-<stage>``) with least-privilege ACLs from the stage registry.

Every streaming stage logs in as its own SCRAM user instead of the super user, and may do only
what ``renkei.contracts.stages`` says it does (docs/security.md has the table):

- **inputs** (``StageSpec.contract_inputs``) and the topics it replicates
  (``replicated_inputs``, read whole without a group: the ``ref.*`` reference data for
  standardize — codes of the event's date — and resident — re-keying when a municipal change
  takes effect, docs/reference-data.md): READ, DESCRIBE;
- **outputs** (``contract_outputs``; the views stage's come from the consumer agreements):
  WRITE, DESCRIBE, CREATE (the stage creates a missing output from the catalogue); the views
  stage also DESCRIBE_CONFIGS, ALTER_CONFIGS on its view topics (their retention follows the
  agreements and is reconciled at every start);
- **the DLQ of each input** ``dlq.<input>``: WRITE, DESCRIBE, CREATE;
- **its own internal topics and table changelogs** (``renkei-<stage>-*``, PREFIXED on the
  stage's own name) and their DLQs (``dlq.renkei-<stage>-*``): READ, WRITE, DESCRIBE, CREATE;
- **its consumer group** ``renkei-<stage>`` (LITERAL): READ;
- **the audit topic** ``audit.access``: WRITE, DESCRIBE, for the stages that write audit
  records (evacuation releases, view deliveries);
- the cluster: IDEMPOTENT_WRITE.

The **audit principal** ``renkei-audit`` (:func:`audit_principal_acls`) is the other side of the
audit topic: it may READ and DESCRIBE ``audit.access`` and nothing else (no WRITE), and it holds
the key that signs the audit chain's head (``renkei.audit.signing``). The writers (the
auditing stages) hold WRITE only: they append, but cannot read the audit back, delete its
records (DELETE) or shorten its retention (ALTER_CONFIGS).

Nothing else: a stage cannot read another stage's internal topics, a purpose view it does not
build, a DLQ it does not write, or a department topic it does not standardize. The principals
are platform principals (:func:`renkei.agreements.model.is_platform_principal`): no agreement
can name, change or delete them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from renkei.agreements.kafka_admin import CLUSTER_RESOURCE, Acl
from renkei.contracts.names import TopicNames
from renkei.contracts.stages import STAGES, StageSpec
from renkei.schemas.catalogue import Catalogue

AUDIT_TOPIC = "audit.access"
AUDITING_STAGES = frozenset({"evacuation", "views"})
"""Stages that write audit records (``evacuation.released``, ``view.delivered``)."""
CONFIGURING_STAGES = frozenset({"views"})
"""Stages that keep their outputs' topic configs in line (the views' retention per agreement)."""
_NAMES = TopicNames("")


def stage_principal(stage: str) -> str:
    """The SCRAM user of a stage: ``renkei-<stage>`` (as its consumer group)."""
    return _NAMES.group(stage)


def _topic(who: str, name: str, *operations: str, pattern: str = "LITERAL") -> set[Acl]:
    return {Acl(who, "TOPIC", name, pattern, operation) for operation in operations}


def stage_acls(spec: StageSpec, catalogue: Catalogue, agreements_dir: Path | None) -> set[Acl]:
    """The ALLOW bindings of ``spec``'s principal (see the module docstring)."""
    who = f"User:{stage_principal(spec.name)}"
    acls = {
        Acl(who, "CLUSTER", CLUSTER_RESOURCE, "LITERAL", "IDEMPOTENT_WRITE"),
        Acl(who, "GROUP", spec.group(), "LITERAL", "READ"),
    }
    for topic in spec.contract_inputs(catalogue, agreements_dir):
        acls |= _topic(who, topic, "READ", "DESCRIBE")
        acls |= _topic(who, _NAMES.dlq(topic), "WRITE", "DESCRIBE", "CREATE")
    for topic in spec.replicated_inputs:  # read whole by every worker, no group
        acls |= _topic(who, topic, "READ", "DESCRIBE")
    for topic in spec.contract_outputs(catalogue, agreements_dir):
        acls |= _topic(who, topic, "WRITE", "DESCRIBE", "CREATE")
        if spec.name in CONFIGURING_STAGES:
            acls |= _topic(who, topic, "DESCRIBE_CONFIGS", "ALTER_CONFIGS")
    if spec.internal_topics or spec.tables:
        own = f"{spec.group()}-"
        acls |= _topic(who, own, "READ", "WRITE", "DESCRIBE", "CREATE", pattern="PREFIXED")
    if spec.internal_topics:
        acls |= _topic(
            who, _NAMES.dlq(f"{spec.group()}-"), "WRITE", "DESCRIBE", "CREATE", pattern="PREFIXED"
        )
    if spec.name in AUDITING_STAGES:
        acls |= _topic(who, AUDIT_TOPIC, "WRITE", "DESCRIBE")
    return acls


def platform_stage_acls(
    catalogue: Catalogue, agreements_dir: Path | None, stages: Iterable[str] | None = None
) -> dict[str, set[Acl]]:
    """Principal name → its bindings, for every stage of the registry (or ``stages``)."""
    names = tuple(stages) if stages is not None else tuple(STAGES)
    return {
        stage_principal(name): stage_acls(STAGES[name], catalogue, agreements_dir) for name in names
    }


AUDIT_PRINCIPAL = "renkei-audit"


def audit_principal_acls() -> dict[str, set[Acl]]:
    """``renkei-audit`` → READ, DESCRIBE on ``audit.access`` (reads without a consumer group:
    ``renkei audit verify --against-topic`` assigns partitions itself)."""
    return {AUDIT_PRINCIPAL: _topic(f"User:{AUDIT_PRINCIPAL}", AUDIT_TOPIC, "READ", "DESCRIBE")}


def platform_principal_acls(
    catalogue: Catalogue, agreements_dir: Path | None
) -> dict[str, set[Acl]]:
    """Every platform principal with ACLs: the stages' and the audit principal's."""
    return {**platform_stage_acls(catalogue, agreements_dir), **audit_principal_acls()}
