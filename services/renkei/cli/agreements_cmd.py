"""``renkei agreements check|apply``: data-sharing agreements (deploy/agreements/*.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from renkei.agreements.apply import (
    ACTOR,
    ApplyReport,
    acl_changes,
    apply_agreements,
    audit_details,
)
from renkei.agreements.kafka_admin import Acl
from renkei.agreements.lint import Problem, lint_agreements
from renkei.agreements.model import Agreement, agreement_files, check_unique, load_agreement
from renkei.agreements.stage_principals import platform_principal_acls
from renkei.audit import AuditLog
from renkei.cli.common import catalogue_of, run, settings_of
from renkei.contracts.views import ViewPlan, plan_views
from renkei.deploy.principals import service_acls
from renkei.errors import ConfigurationError, RegistryError
from renkei.serde.registry import registry_client
from renkei.settings import Settings

_DIR_HELP = "Agreements folder (default: RENKEI_AGREEMENTS_DIR, else deploy/agreements)."


@click.group("agreements")
def agreements() -> None:
    """Lint data-sharing agreements and apply them as Kafka users and ACLs."""


def _load_all(folder: Path) -> tuple[list[Agreement], list[Problem]]:
    """Every agreement that parses, and one problem per file that does not."""
    loaded: list[Agreement] = []
    problems: list[Problem] = []
    for path in agreement_files(folder):
        try:
            loaded.append(load_agreement(path))
        except ConfigurationError as exc:
            problems.append(Problem(path.stem, "invalid", str(exc).replace("\n", " ")))
    for line in check_unique(loaded):
        agreement, _, message = line.partition(": ")
        problems.append(Problem(agreement, "invalid", message))
    return loaded, problems


@agreements.command("check")
@click.option("--dir", "folder", type=click.Path(path_type=Path), help=_DIR_HELP)
@click.pass_context
def check(ctx: click.Context, folder: Path | None) -> None:
    """Lint every agreement: unknown topics or fields, over-broad grants, zone violations.

    Prints one line per problem (``<agreement>: <kind>: <message>``) and exits 1 if there is
    any; exits 0 with a summary when all agreements are clean.
    """
    settings = settings_of(ctx)
    folder = folder or settings.agreements_dir
    loaded, problems = _load_all(folder)
    problems += lint_agreements(loaded, catalogue_of(settings))
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.secho(f"{len(problems)} problem(s) in {folder}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{len(loaded)} agreement(s) in {folder}: no problems")


@agreements.command("apply")
@click.option("--dir", "folder", type=click.Path(path_type=Path), help=_DIR_HELP)
@click.option(
    "--password-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Take <principal>.password from this folder when present (else the generated one "
    "under $RENKEI_HOME/secrets/users/).",
)
@click.option(
    "--stage-principals/--no-stage-principals",
    default=True,
    show_default=True,
    help="Also create the stage principals renkei-<stage> with the ACLs the stage registry "
    "implies, and the audit principal renkei-audit (see `renkei agreements stage-acls`).",
)
@click.option(
    "--service-principals",
    is_flag=True,
    help="Also create the service principals of a deployment (renkei-<job>, renkei-registry, "
    "renkei-catalogue; `renkei agreements stage-acls --services`): what docker-compose's "
    "access-apply service runs.",
)
@click.pass_context
def apply(
    ctx: click.Context,
    folder: Path | None,
    password_dir: Path | None,
    stage_principals: bool,
    service_principals: bool,
) -> None:
    """Create SCRAM users and least-privilege ACLs from the agreements (idempotent).

    Runs `check` first and refuses to apply when it finds problems. Needs the settings of a
    super user of the secure stack (RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL, renkei-admin).
    Prints one line per change; users and ACLs of agreements removed since the last apply are
    revoked. Writes agreements.applied and acl.changed audit records. Passwords are stored 0600
    under $RENKEI_HOME/secrets/users/ and never printed. Each stage then runs as its own
    principal: RENKEI_KAFKA_SASL_USERNAME=renkei-<stage> and
    RENKEI_KAFKA_SASL_PASSWORD_FILE=$RENKEI_HOME/secrets/users/renkei-<stage>.password.
    """
    settings = settings_of(ctx)
    folder = folder or settings.agreements_dir
    loaded, problems = _load_all(folder)
    catalogue = catalogue_of(settings)
    problems += lint_agreements(loaded, catalogue)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.secho(f"{len(problems)} problem(s): nothing applied", fg="red", err=True)
        sys.exit(1)
    stage_acls = platform_principal_acls(catalogue, folder) if stage_principals else None
    if service_principals:
        stage_acls = (stage_acls or {}) | service_acls(catalogue, folder)
    report = run(_apply(settings, loaded, password_dir, stage_acls))
    for line in report.lines():
        click.echo(line)
    failed = run(_register_view_schemas(settings, plan_views(loaded, catalogue)))
    if failed:
        click.secho(f"{failed} view schema(s) not registered", fg="red", err=True)
        sys.exit(1)
    users = len(loaded)
    summary = "changed" if report.changed else "no changes"
    click.echo(f"{users} agreement(s) applied: {summary}")


async def _register_view_schemas(settings: Settings, plans: list[ViewPlan]) -> int:
    """Register the view schemas the agreements imply (as the schema principal on the secure
    stack), so the views worker's own principal needs no registry write; failures counted."""
    failed = 0
    async with registry_client(settings) as client:
        for plan in plans:
            subject = f"{settings.topic_prefix}{plan.topic}-value"
            try:
                before = await client.latest(subject)
                schema_id = await client.register(subject, plan.spec.schema_text)
                await client.set_compatibility(subject, plan.spec.compatibility)
            except RegistryError as exc:
                failed += 1
                click.secho(f"view schema {subject} REFUSED: {exc}", fg="red", err=True)
                continue
            if before is None or before.get("id") != schema_id:
                click.echo(f"view schema {subject} registered (id {schema_id})")
    return failed


async def _apply(
    settings: Settings,
    loaded: list[Agreement],
    password_dir: Path | None,
    stage_acls: dict[str, set[Acl]] | None,
) -> ApplyReport:
    report = await apply_agreements(
        settings, loaded, password_dir=password_dir, stage_acls=stage_acls
    )
    audit = AuditLog.open(settings)
    try:
        await audit.record("agreements.applied", actor=ACTOR, details=audit_details(loaded, report))
        for principal, change in acl_changes(report).items():
            await audit.record(
                "acl.changed", actor=ACTOR, details={"principal": principal, **change}
            )
    finally:
        await audit.aclose()
    return report


@agreements.command("stage-acls")
@click.option("--dir", "folder", type=click.Path(path_type=Path), help=_DIR_HELP)
@click.option(
    "--services",
    is_flag=True,
    help="Also the service principals of a deployment (renkei-<job>, renkei-registry, "
    "renkei-catalogue), as `apply --service-principals` creates them.",
)
@click.pass_context
def stage_acls_cmd(ctx: click.Context, folder: Path | None, services: bool) -> None:
    """Print the ACLs of every stage principal renkei-<stage> and of the audit principal
    renkei-audit, one binding a line.

    Generated from the stage registry (inputs, outputs, internal topics, tables) and, for the
    views stage, the consumer agreements; renkei-audit may only read audit.access.
    `agreements apply` creates exactly these. The Strimzi KafkaUser resources
    (deploy/k8s-secure/users.yaml) hold the same bindings.
    """
    settings = settings_of(ctx)
    folder = folder or settings.agreements_dir
    catalogue = catalogue_of(settings)
    wanted = platform_principal_acls(catalogue, folder)
    if services:
        wanted |= service_acls(catalogue, folder)
    for principal, acls in wanted.items():
        click.echo(f"# {principal}: {len(acls)} binding(s)")
        for acl in sorted(acls):
            click.echo(acl.describe())
