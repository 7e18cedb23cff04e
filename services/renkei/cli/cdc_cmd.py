"""``renkei cdc connect|run|status|disconnect``: change data capture from a department database.

See docs/cdc-input.md for the walkthrough (database preparation, the mapping, the semantics).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from renkei.cli.common import catalogue_of, settings_of
from renkei.errors import RenkeiError
from renkei.input_formats.csv_mapping import CsvMapping, load_mapping

MAPPING = click.option(
    "--mapping",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Mapping file with format: cdc (e.g. deploy/mappings/jumin-kiroku-cdc.yaml).",
)
NAME = click.option(
    "--name",
    required=True,
    help="Connector name, also in its topics (cdc.<name>.<schema>.<table>), e.g. jumin.",
)


def _cdc_mapping(path: Path) -> CsvMapping:
    mapping = load_mapping(path)
    if mapping.format != "cdc" or mapping.cdc is None:
        raise click.BadParameter(
            f"{path} is not a cdc mapping (format: cdc)", param_hint="--mapping"
        )
    return mapping


@click.group("cdc")
def cdc() -> None:
    """Change data capture: a department's database → department events.

    connect registers Debezium's PostgreSQL connector with Kafka Connect (RENKEI_CONNECT_URL)
    for the mapping's table; run maps its change events to events of the mapping's topic
    (the event type from the row's 異動事由, never from the SQL operation); status and
    disconnect manage the connector (docs/cdc-input.md).
    """
    logging.getLogger("aiokafka").setLevel(logging.ERROR)


@cdc.command("connect")
@MAPPING
@NAME
@click.option("--database", help="Database name (default RENKEI_CDC_DATABASE_NAME).")
@click.pass_context
def connect_cmd(ctx: click.Context, mapping: Path, name: str, database: str | None) -> None:
    """Register (or update) the connector of the mapping's table.

    The database needs wal_level = logical, a user with LOGIN REPLICATION and SELECT on the
    table, REPLICA IDENTITY FULL on the table and a publication renkei_cdc for it (the local
    stack's database has them: renkei stack up --cdc). The password is read from
    RENKEI_CDC_DATABASE_PASSWORD_FILE by Kafka Connect, never stored in the connector.
    """
    from renkei.input_formats.cdc_connector import ConnectClient, cdc_topics, connector_config

    settings = settings_of(ctx)
    rules = _cdc_mapping(mapping).cdc
    assert rules is not None
    try:
        config = connector_config(settings, name, rules, database=database)
        created = ConnectClient(settings).put_config(name, config)
    except RenkeiError as exc:
        raise click.ClickException(str(exc)) from exc
    topics = cdc_topics(settings, name, rules)
    click.echo(f"connector {name}: {'created' if created else 'updated'}")
    click.echo(f"  changes:      {topics.changes}")
    click.echo(f"  transactions: {topics.transactions}")
    click.echo(f"  next: renkei cdc run --mapping {mapping} --name {name}")


@cdc.command("status")
@NAME
@click.pass_context
def status_cmd(ctx: click.Context, name: str) -> None:
    """The connector's state and its task's; exit 1 unless both run."""
    from renkei.input_formats.cdc_connector import ConnectClient, running_state

    settings = settings_of(ctx)
    try:
        running, detail = running_state(ConnectClient(settings).status(name))
    except RenkeiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"connector {name}: {detail}")
    if not running:
        raise SystemExit(1)


@cdc.command("disconnect")
@NAME
@click.pass_context
def disconnect_cmd(ctx: click.Context, name: str) -> None:
    """Delete the connector. Its replication slot stays in the database and keeps WAL until a
    DBA drops it (SELECT pg_drop_replication_slot('<slot>')): the command prints its name."""
    from renkei.input_formats.cdc_connector import ConnectClient, slot_name

    settings = settings_of(ctx)
    try:
        deleted = ConnectClient(settings).delete(name)
    except RenkeiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"connector {name}: {'deleted' if deleted else 'was not registered'}")
    click.echo(f"  replication slot left in the database: {slot_name(settings, name)}")


@cdc.command("run")
@MAPPING
@NAME
@click.pass_context
def run_cmd(ctx: click.Context, mapping: Path, name: str) -> None:
    """Map the connector's change events to events of the mapping's topic, until stopped.

    One database transaction's events are sent together once all its changes arrived;
    changes the mapping refuses (a DELETE, an UPDATE without a new 異動, a bad value) go to
    dlq.<topic> with the table and log position (renkei dlq report --department). Prints a
    line of counts after each batch (no personal data). Stop with Ctrl-C or SIGTERM.
    """
    from renkei.input_formats.cdc_adapter import AdapterStats, adapter_group, run_adapter
    from renkei.input_formats.cdc_connector import cdc_topics

    settings = settings_of(ctx)
    loaded = _cdc_mapping(mapping)
    assert loaded.cdc is not None
    catalogue = catalogue_of(settings)
    topics = cdc_topics(settings, name, loaded.cdc)
    group = adapter_group(settings, name)
    click.echo(f"cdc {name}: {topics.changes} -> {loaded.topic} (group {group})", err=True)

    def report(stats: AdapterStats) -> None:
        click.echo(f"cdc {name}: {stats.line()}", err=True)

    async def main() -> AdapterStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await run_adapter(settings, catalogue, loaded, topics, group, stop, report)

    try:
        stats = asyncio.run(main())
    except RenkeiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"cdc {name}: stopped; {stats.line()}", err=True)
