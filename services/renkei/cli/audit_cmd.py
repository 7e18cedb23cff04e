"""``renkei audit verify|show``: check and read the hash-chained audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from renkei.audit import AuditFile, audit_path
from renkei.audit.crosscheck import compare, default_log_id, read_topic
from renkei.cli.common import run, settings_of
from renkei.errors import AuditError

_FILE_HELP = "Audit file (default: $RENKEI_HOME/audit/audit.jsonl)."


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log (agreements, ACLs, view deliveries, disaster releases)."""


def _file(ctx: click.Context, path: Path | None) -> AuditFile:
    return AuditFile(path or audit_path(settings_of(ctx)))


@audit.command("verify")
@click.option("--file", "path", type=click.Path(path_type=Path), help=_FILE_HELP)
@click.option(
    "--against-topic",
    is_flag=True,
    help="Also compare the file with its copy on the audit.access topic (needs the broker).",
)
@click.option(
    "--log-id",
    help="With --against-topic: the log_id the records were written under "
    "(default: <this host>:<file path>).",
)
@click.pass_context
def verify(ctx: click.Context, path: Path | None, against_topic: bool, log_id: str | None) -> None:
    """Check the hash chain: every record's hash, its link to the previous record, the
    numbering, and that the file ends where its .head file says.

    Prints where the chain breaks and exits 1 on a changed, deleted, inserted or reordered
    record; exits 0 and prints the record count when the log is intact. With --against-topic
    a file rewritten consistently (chain and head) is caught too: every record the topic holds
    for this file must be in the file with the same hash.
    """
    file = _file(ctx, path)
    matched = 0
    try:
        result = file.verify()
        problems = list(result.problems)
        if against_topic:
            topic = run(read_topic(settings_of(ctx)))
            check = compare(file.records(), topic, log_id or default_log_id(file.path))
            problems += check.problems
            matched = check.compared
            if check.not_in_topic:
                click.echo(
                    f"note: {len(check.not_in_topic)} record(s) of the file are not on the topic "
                    f"(not produced?): sequences {check.not_in_topic[:10]}",
                    err=True,
                )
    except AuditError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    if not problems:
        last = "-" if result.last_sequence is None else result.last_sequence
        anchored = f", {matched} matched on the topic" if against_topic else ""
        click.echo(
            f"ok: {result.records} record(s), chain intact, last sequence {last}, "
            f"head {result.last_hash[:16]}…{anchored} ({file.path})"
        )
        return
    click.secho(f"BROKEN: {file.path}", fg="red", err=True)
    for problem in problems[:50]:
        click.echo(f"  {problem}", err=True)
    if len(problems) > 50:
        click.echo(f"  … and {len(problems) - 50} more", err=True)
    sys.exit(1)


@audit.command("show")
@click.option("--file", "path", type=click.Path(path_type=Path), help=_FILE_HELP)
@click.option("--kind", "kinds", multiple=True, help="Only records of these kinds.")
@click.option("--last", type=int, default=0, help="Only the last N records (0 = all).")
@click.option("--json", "as_json", is_flag=True, help="Print each record as one JSON line.")
@click.pass_context
def show(
    ctx: click.Context, path: Path | None, kinds: tuple[str, ...], last: int, as_json: bool
) -> None:
    """Print the audit records (well-formed lines only; run `verify` to check the chain)."""
    file = _file(ctx, path)
    if not file.path.exists():
        click.secho(f"error: audit file not found: {file.path}", fg="red", err=True)
        sys.exit(1)
    records = [r for r in file.records() if not kinds or r["kind"] in kinds]
    for record in records[-last:] if last > 0 else records:
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False, sort_keys=True))
            continue
        details = json.dumps(record["details"], ensure_ascii=False, sort_keys=True)
        click.echo(
            f"{record['sequence']:>6} {record['recorded_at']} {record['kind']:<20} "
            f"{record['actor']}  {details}"
        )
