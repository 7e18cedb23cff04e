"""``renkei agreements apply``: agreements → SCRAM users and least-privilege ACLs.

Phases of :func:`apply_agreements`:

1. passwords: each principal's from ``--password-dir/<principal>.password`` if given there, else
   ``$RENKEI_HOME/secrets/users/<principal>.password`` (generated, 0600, the first time);
2. SCRAM users: created when missing, replaced when the password file changed (a fingerprint in
   the state file tells), deleted when their agreement is gone;
3. ACLs of every managed principal (current agreements and those applied before, from
   ``$RENKEI_HOME/agreements/applied.json``): missing bindings created, others removed;
   platform principals (``renkei*``) are never managed through agreements;
3b. the stage principals ``renkei-<stage>`` (``stage_principals.py``), when given: users
   created when missing, ACLs made exactly those the stage registry implies;
4. the state file, then audit records (``agreements.applied``, one ``acl.changed`` per principal
   whose bindings changed).

Re-applying unchanged agreements changes nothing. :func:`desired_acls` is the mapping from an
agreement to bindings (docs/security.md shows it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from renkei.agreements.kafka_admin import CLUSTER_RESOURCE, Acl, KafkaAccessAdmin
from renkei.agreements.model import Agreement, is_platform_principal
from renkei.contracts.names import TopicNames
from renkei.errors import ConfigurationError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.settings import Settings
from renkei.stack.secure import ensure_password, password_file
from renkei.stack.secure_tls import write_private

ACTOR = "cli:renkei agreements apply"


def desired_acls(agreement: Agreement) -> set[Acl]:
    """Least privilege: a provider writes its topics and reads their dead-letter topics (its own
    rejects, for ``renkei dlq report``); a consumer reads its views and group."""
    who = agreement.kafka_principal
    if agreement.role == "provider":
        acls = {Acl(who, "CLUSTER", CLUSTER_RESOURCE, "LITERAL", "IDEMPOTENT_WRITE")}
        for topic in agreement.topic_names:
            acls.add(Acl(who, "TOPIC", topic, "LITERAL", "WRITE"))
            acls.add(Acl(who, "TOPIC", topic, "LITERAL", "DESCRIBE"))
            rejects = TopicNames().dlq(topic)
            acls.add(Acl(who, "TOPIC", rejects, "LITERAL", "READ"))
            acls.add(Acl(who, "TOPIC", rejects, "LITERAL", "DESCRIBE"))
        return acls
    acls = set()
    for view in agreement.views:
        acls.add(Acl(who, "TOPIC", view, "LITERAL", "READ"))
        acls.add(Acl(who, "TOPIC", view, "LITERAL", "DESCRIBE"))
    if agreement.consumer_group:
        acls.add(Acl(who, "GROUP", agreement.consumer_group, "PREFIXED", "READ"))
    return acls


@dataclass
class ApplyReport:
    """What one apply changed (empty lists: nothing changed)."""

    users_created: list[str] = field(default_factory=list)
    users_updated: list[str] = field(default_factory=list)
    users_deleted: list[str] = field(default_factory=list)
    acls_added: list[Acl] = field(default_factory=list)
    acls_removed: list[Acl] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.users_created,
                self.users_updated,
                self.users_deleted,
                self.acls_added,
                self.acls_removed,
            )
        )

    def lines(self) -> list[str]:
        """One line per change, as the command prints them."""
        out = [f"user    {name:<32} created" for name in self.users_created]
        out += [f"user    {name:<32} password replaced" for name in self.users_updated]
        out += [f"user    {name:<32} deleted (agreement gone)" for name in self.users_deleted]
        out += [f"acl   + {acl.describe()}" for acl in self.acls_added]
        out += [f"acl   - {acl.describe()}" for acl in self.acls_removed]
        return out


def state_file(settings: Settings) -> Path:
    """Principals applied before (so a removed agreement's user and ACLs can be revoked)."""
    return settings.home / "agreements" / "applied.json"


def _load_state(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: unreadable apply state: {exc}") from exc
    principals = data.get("principals", {}) if isinstance(data, dict) else {}
    return {str(k): dict(v) for k, v in principals.items()}


def _save_state(path: Path, principals: dict[str, dict[str, str]]) -> None:
    text = json.dumps({"principals": principals}, indent=2, sort_keys=True) + "\n"
    write_private(path, text.encode())


def _fingerprint(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def _password(settings: Settings, principal: str, password_dir: Path | None) -> str:
    if password_dir is not None:
        given = password_dir / f"{principal}.password"
        if given.is_file():
            password = given.read_text(encoding="utf-8").strip()
            if not password:
                raise ConfigurationError(f"{given} is empty")
            return password
    return ensure_password(settings.home, principal)


async def _apply_users(
    access: KafkaAccessAdmin,
    settings: Settings,
    agreements: Sequence[Agreement],
    state: dict[str, dict[str, str]],
    password_dir: Path | None,
    report: ApplyReport,
) -> dict[str, dict[str, str]]:
    existing = await access.scram_users()
    new_state: dict[str, dict[str, str]] = {}
    for agreement in agreements:
        principal = agreement.principal
        password = _password(settings, principal, password_dir)
        fingerprint = _fingerprint(password)
        before = state.get(principal, {}).get("password_sha256")
        if principal not in existing or before != fingerprint:
            await access.upsert_scram_user(principal, password)
            (report.users_created if principal not in existing else report.users_updated).append(
                principal
            )
        new_state[principal] = {"agreement": agreement.id, "password_sha256": fingerprint}
    for principal in sorted(set(state) - set(new_state)):
        if is_platform_principal(principal):
            # A state file from before reserved names were refused (or edited by hand) must
            # never make a withdrawal delete the super user, a stage or its password file.
            continue
        if principal in existing:
            await access.delete_scram_user(principal)
            report.users_deleted.append(principal)
        password_file(settings.home, principal).unlink(missing_ok=True)
    return new_state


async def _apply_acls(
    access: KafkaAccessAdmin,
    agreements: Sequence[Agreement],
    managed: set[str],
    report: ApplyReport,
) -> None:
    wanted = {agreement.principal: desired_acls(agreement) for agreement in agreements}
    for principal in sorted(p for p in managed if not is_platform_principal(p)):
        desired = wanted.get(principal, set())
        current = await access.acls_of(f"User:{principal}")
        missing, stale = desired - current, current - desired
        await access.create_acls(missing)
        await access.delete_acls(stale)
        report.acls_added += sorted(missing)
        report.acls_removed += sorted(stale)


async def _apply_stage_principals(
    access: KafkaAccessAdmin,
    settings: Settings,
    wanted: dict[str, set[Acl]],
    password_dir: Path | None,
    report: ApplyReport,
) -> None:
    """Stage principals (``renkei.agreements.stage_principals``): each SCRAM user created
    when missing (password as for agreements), its ACLs made exactly ``wanted``."""
    existing = await access.scram_users()
    for principal in sorted(wanted):
        if not is_platform_principal(principal):
            raise ConfigurationError(f"{principal} is not a platform (stage) principal")
        if principal not in existing:
            await access.upsert_scram_user(principal, _password(settings, principal, password_dir))
            report.users_created.append(principal)
        current = await access.acls_of(f"User:{principal}")
        missing, stale = wanted[principal] - current, current - wanted[principal]
        await access.create_acls(missing)
        await access.delete_acls(stale)
        report.acls_added += sorted(missing)
        report.acls_removed += sorted(stale)


async def apply_agreements(
    settings: Settings,
    agreements: Sequence[Agreement],
    *,
    password_dir: Path | None = None,
    stage_acls: dict[str, set[Acl]] | None = None,
) -> ApplyReport:
    """Make the cluster's SCRAM users and ACLs match ``agreements`` (see module docstring),
    and, when ``stage_acls`` is given (principal → bindings, from
    ``renkei.agreements.stage_principals.platform_stage_acls``), the stage principals'.

    The settings' Kafka user must be a super user (``renkei-admin`` of the secure stack).
    """
    if settings.kafka_security_protocol == "PLAINTEXT":
        raise ConfigurationError(
            "agreements apply needs an authenticated broker with an authorizer: set "
            "RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL and the super user's credentials "
            "(printed by `renkei stack up --secure`)"
        )
    reserved = sorted(a.principal for a in agreements if is_platform_principal(a.principal))
    if reserved:  # Agreement's validator refuses these; a constructed list must not slip by
        raise ConfigurationError(f"agreements name platform principals: {', '.join(reserved)}")
    report = ApplyReport()
    path = state_file(settings)
    state = _load_state(path)
    admin = AIOKafkaAdminClient(**kafka_client_options(settings), request_timeout_ms=15000)
    try:
        await admin.start()
    except KafkaError as exc:
        await admin.close()
        raise StackError(
            f"Kafka at {settings.kafka_bootstrap} not reachable as "
            f"{settings.kafka_sasl_username or 'anonymous'} ({type(exc).__name__}); "
            "agreements apply needs the secure stack's admin (renkei stack up --secure)"
        ) from exc
    try:
        access = KafkaAccessAdmin(admin)
        new_state = await _apply_users(access, settings, agreements, state, password_dir, report)
        await _apply_acls(access, agreements, set(state) | set(new_state), report)
        if stage_acls is not None:
            await _apply_stage_principals(access, settings, stage_acls, password_dir, report)
    finally:
        await admin.close()
    _save_state(path, new_state)
    return report


def audit_details(agreements: Sequence[Agreement], report: ApplyReport) -> dict[str, Any]:
    """The ``agreements.applied`` record: ids and counts (no passwords, no personal data)."""
    return {
        "agreements": sorted(agreement.id for agreement in agreements),
        "users_created": report.users_created,
        "users_updated": report.users_updated,
        "users_deleted": report.users_deleted,
        "acls_added": len(report.acls_added),
        "acls_removed": len(report.acls_removed),
    }


def acl_changes(report: ApplyReport) -> dict[str, dict[str, list[str]]]:
    """principal → {"added": [...], "removed": [...]} for the ``acl.changed`` records."""
    changes: dict[str, dict[str, list[str]]] = {}
    for sign, acls in (("added", report.acls_added), ("removed", report.acls_removed)):
        for acl in acls:
            entry = changes.setdefault(acl.principal, {"added": [], "removed": []})
            entry[sign].append(acl.describe())
    return changes
