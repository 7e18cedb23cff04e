"""``renkei stack up|down|status``: the local Kafka broker and schema registry.

The group expects a :class:`renkei.settings.Settings` in ``ctx.obj`` (set by the main CLI);
run on its own (``python -m renkei.cli.stack_cmd``) it loads the settings itself.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import click

from renkei.errors import StackError
from renkei.settings import Settings, load_settings
from renkei.stack import (
    APICURIO_VERSION,
    DEFAULT_KAFKA_VERSION,
    ServerStatus,
    StackStatus,
    ensure_stack_up,
    stack_status,
    stop_stack,
)
from renkei.stack.endpoints import StackEndpoints
from renkei.stack.secure import load_broker_security


def _settings(ctx: click.Context) -> Settings:
    """The Settings the main CLI put in ``ctx.obj``; loaded here when run standalone."""
    if ctx.obj is None:
        ctx.obj = load_settings()
    if not isinstance(ctx.obj, Settings):
        raise click.UsageError("renkei stack expects Settings in the click context object")
    return ctx.obj


def _progress(line: str) -> None:
    click.echo(line, err=True)


def format_server(server: ServerStatus) -> str:
    """One row of the status table: name, up/down, version, address, pid, detail."""
    state = "up" if server.up else "DOWN"
    pid = f"pid {server.pid}" if server.pid else "-"
    return (
        f"{server.name:<9} {state:<5} {server.version or '?':<7} {server.address:<40} "
        f"{pid:<10} {server.detail}"
    )


def format_status(status: StackStatus) -> list[str]:
    """The lines ``renkei stack status`` prints."""
    return [*(format_server(server) for server in status.servers), f"logs: {status.logs}"]


@click.group("stack")
def stack() -> None:
    """Run a local Kafka broker and Apicurio Registry (fetched from Maven Central); with
    `up --cdc` also PostgreSQL and Kafka Connect with Debezium (change data capture)."""


@stack.command("up", short_help="Fetch and start Kafka and the registry (idempotent).")
@click.option(
    "--kafka",
    "kafka_version",
    metavar="X.Y.Z",
    default=None,
    help=f"Kafka version to run (default: the running one, else {DEFAULT_KAFKA_VERSION}).",
)
@click.option(
    "--registry-java",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="JDK 21+ (folder or java binary) for Apicurio; default: $RENKEI_REGISTRY_JAVA_HOME, "
    "else the newest JDK 21+ under /usr/lib/jvm.",
)
@click.option(
    "--timeout",
    type=float,
    default=180.0,
    show_default=True,
    help="Seconds to wait for each server to answer.",
)
@click.option(
    "--secure",
    is_flag=True,
    default=None,
    help="SASL_SSL (SCRAM-SHA-512) broker with ACLs and a super user; certificates and "
    "passwords under $RENKEI_HOME/secrets (also: RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL). "
    "The registry URL is served by an authenticating proxy (schema changes only as "
    "renkei-schema; Apicurio on the port above). Use a RENKEI_HOME and ports of its own.",
)
@click.option(
    "--cdc",
    is_flag=True,
    help="Also run change data capture: a department database (PostgreSQL from Debian's "
    "packages, port RENKEI_CDC_DATABASE_PORT) and Kafka Connect with Debezium's PostgreSQL "
    "connector (RENKEI_CONNECT_URL); docs/cdc-input.md.",
)
@click.pass_context
def up(
    ctx: click.Context,
    kafka_version: str | None,
    registry_java: Path | None,
    timeout: float,
    secure: bool | None,
    cdc: bool,
) -> None:
    """Fetch and start Kafka and the registry; servers already running are left alone.

    Kafka and Apicurio Registry come from Maven Central (cached per version under
    $RENKEI_HOME/downloads); data, logs and pid files live under $RENKEI_HOME too
    (default <repo>/.renkei). Each Kafka version keeps its own data folder.

    Without --secure the stack is for development only: Kafka PLAINTEXT with no
    authentication or ACLs, the registry open to any local process. Deployments
    (docker-compose.yml, deploy/k8s) are secure by default: docs/security.md.
    """
    settings = _settings(ctx)
    try:
        status = ensure_stack_up(
            settings,
            kafka_version=kafka_version,
            registry_java=registry_java,
            progress=_progress,
            kafka_timeout=timeout,
            registry_timeout=timeout,
            secure=secure,
            cdc=cdc,
        )
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in format_status(status):
        click.echo(line)
    if secure or settings.kafka_security_protocol == "SASL_SSL":
        _print_client_environment(settings)
    else:
        click.echo(
            "development stack: PLAINTEXT Kafka without authentication or ACLs; do not put "
            "real residents' data here (secure: --secure; deployments: docs/security.md)"
        )


def _print_client_environment(settings: Settings) -> None:
    """How to act as the platform super user (the password stays in its 0600 file)."""
    security = load_broker_security(settings.home)
    if security is None:
        return
    endpoints = replace(StackEndpoints.from_settings(settings), secure=True)
    click.echo(
        "# platform super user and schema principal (passwords in the files, never printed):"
    )
    for name, value in security.client_environment(endpoints).items():
        click.echo(f"export {name}={value}")


@stack.command("down", short_help="Stop the servers `renkei stack up` started.")
@click.option(
    "--wipe",
    is_flag=True,
    help="Also delete the data folder (Kafka topics and the registry's schemas).",
)
@click.pass_context
def down(ctx: click.Context, wipe: bool) -> None:
    """Stop the servers `renkei stack up` started (SIGTERM, then SIGKILL after 30 s)."""
    settings = _settings(ctx)
    try:
        reports = stop_stack(settings, wipe=wipe, progress=_progress)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    stopped = [report.name for report in reports if report.outcome in ("terminated", "killed")]
    click.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing'}")


@stack.command("status", short_help="Show the servers; exit 1 if one is down.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show each server, up or down, version and address; exit 1 if any is down."""
    settings = _settings(ctx)
    try:
        current = stack_status(settings)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        payload = {
            "all_up": current.all_up,
            "logs": str(current.logs),
            "servers": [asdict(server) for server in current.servers],
            "pinned": {"kafka": DEFAULT_KAFKA_VERSION, "registry": APICURIO_VERSION},
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for line in format_status(current):
            click.echo(line)
    if not current.all_up:
        # sys.exit, not ctx.exit: the main CLI runs click with standalone_mode=False, where
        # ctx.exit's code would be returned by cli.main() and lost.
        sys.exit(1)


if __name__ == "__main__":
    stack()
