"""``renkei dlq list|show|replay``: look into dead-letter topics and replay them after a fix.

See docs/dlq.md for the operator's procedure (bad mapping → fix → replay).
"""

from __future__ import annotations

import getpass
import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from renkei.cli.common import run, settings_of
from renkei.errors import RenkeiError
from renkei.ops.dlq.browse import Shown, ShowOptions, list_dlqs, show_entries
from renkei.ops.dlq.entries import REASONS, DlqTopic, resolve_topic
from renkei.ops.dlq.memory import Selection
from renkei.ops.dlq.replay import ReplayReport, replay
from renkei.ops.dlq.report import ENCODINGS
from renkei.ops.dlq.summary import render_table
from renkei.settings import Settings

REASON_OPTION = click.option(
    "--reason",
    type=click.Choice(REASONS),
    help="Only records of this reason class.",
)


def _topic(settings: Settings, name: str) -> DlqTopic:
    try:
        return resolve_topic(name, settings.topic_prefix)
    except RenkeiError as exc:
        raise click.BadParameter(str(exc), param_hint="TOPIC") from exc


def _run(coro: Any) -> Any:
    """Run ``coro``; a Renkei error (unknown topic, broker down) is one line and exit 1."""
    try:
        return run(coro)
    except RenkeiError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("dlq")
def dlq() -> None:
    """Dead-letter topics (dlq.<topic>): what was rejected, why, and replay after a fix.

    list counts records per topic, stage and reason (no record contents); show prints records
    with their reason headers and decoded values (個人番号-like values masked); replay sends
    them back to their topic once the cause is fixed (docs/dlq.md); report writes a
    department's own rejects as CSV for its staff (docs/reject-report.md).
    """
    # aiokafka logs each failed connection and metadata miss itself; the command's own error
    # says what matters in one line.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


@dlq.command("list")
@click.argument("topic", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
@click.pass_context
def list_cmd(ctx: click.Context, topic: str | None, as_json: bool) -> None:
    """Count DLQ records per topic, stage and reason class.

    PENDING records were not replayed yet; RETURNED ones came back after a replay (they failed
    again). Prints no keys, values or details. TOPIC limits it to one DLQ topic.
    """
    settings = settings_of(ctx)
    only = _topic(settings, topic) if topic else None
    rows, empty = _run(list_dlqs(settings, only))
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.as_json(), ensure_ascii=False))
        for name in empty:
            click.echo(json.dumps({"topic": name, "records": 0}))
        return
    if not rows and not empty:
        click.echo("no DLQ topics (they are created when a stage starts)")
        return
    for line in render_table(rows, empty):
        click.echo(line)


@dlq.command("show")
@click.argument("topic")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--offset", type=click.IntRange(min=0), default=0, show_default=True,
    help="Start at this offset of every partition.",
)  # fmt: skip
@click.option("--partition", type=click.IntRange(min=0), help="Only this partition.")
@REASON_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.pass_context
def show_cmd(
    ctx: click.Context,
    topic: str,
    limit: int,
    offset: int,
    partition: int | None,
    reason: str | None,
    as_json: bool,
) -> None:
    """Print DLQ records: reason, detail, stage, origin, time, key, headers, decoded value.

    The value is decoded with its writer schema from the registry when it can be. It holds
    personal data: use this on a terminal you are allowed to, never paste it into a ticket.
    12-digit values shaped like a 個人番号 are masked. TOPIC is the DLQ topic
    (dlq.registry.resident.events) or the topic it belongs to.
    """
    settings = settings_of(ctx)
    options = ShowOptions(limit=limit, offset=offset, partition=partition, reason=reason)

    async def show() -> int:
        count = 0
        async for shown in show_entries(settings, _topic(settings, topic), options):
            click.echo(json.dumps(_as_json(shown), ensure_ascii=False) if as_json else _text(shown))
            count += 1
        return count

    if _run(show()) == 0 and not as_json:
        click.echo("no records match", err=True)


def _as_json(shown: Shown) -> dict[str, Any]:
    e = shown.entry
    return {
        "topic": e.topic,
        "partition": e.partition,
        "offset": e.offset,
        "reason": e.reason,
        "detail": e.detail,
        "stage": e.stage,
        "origin": {
            "topic": e.origin_topic,
            "partition": e.origin_partition,
            "offset": e.origin_offset,
        },
        "time": e.time,
        "replay_of": e.replay_of,
        "replayed": shown.replayed,
        "key": shown.key,
        "headers": shown.headers,
        "value": shown.value,
        "undecodable": shown.undecodable,
    }


def _text(shown: Shown) -> str:
    e = shown.entry
    lines = [
        f"{e.topic} [{e.partition}] @{e.offset}",
        f"  reason:   {e.reason} (stage {e.stage})",
        f"  detail:   {e.detail}",
        f"  origin:   {e.origin_topic} [{e.origin_partition}] @{e.origin_offset}",
        f"  time:     {e.time}",
        f"  replayed: {'yes' if shown.replayed else 'no'}"
        + (f"; came back after the replay of {e.replay_of}" if e.replay_of else ""),
        f"  key:      {shown.key}",
    ]
    others = {k: v for k, v in shown.headers.items() if not k.startswith("renkei.")}
    if others:
        lines.append("  headers:  " + ", ".join(f"{k}={v}" for k, v in others.items()))
    if shown.undecodable is not None:
        lines.append(f"  value:    not decodable: {shown.undecodable}")
    else:
        lines.append("  value:    " + json.dumps(shown.value, ensure_ascii=False))
    return "\n".join(lines) + "\n"


@dlq.command("replay")
@click.argument("topic")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and remember nothing.")
@REASON_OPTION
@click.option(
    "--from-offset",
    type=click.IntRange(min=0),
    help="Start at this offset of every partition, sending again records an earlier replay "
    "sent (the stages ignore events they already applied).",
)
@click.pass_context
def replay_cmd(
    ctx: click.Context, topic: str, dry_run: bool, reason: str | None, from_offset: int | None
) -> None:
    """Send DLQ records back to the topic they came from, after the cause was fixed.

    Each record goes back with its original key, value, partition and headers (the renkei.dlq.*
    headers replaced by renkei.replay.of). Replays are remembered per DLQ topic (consumer groups
    renkei-replay.<dlq topic>[.<reason>]): a second replay sends nothing already sent. A record
    that fails again returns to the DLQ. Every replay writes a dlq.replay audit record (counts
    only). TOPIC is the DLQ topic (dlq.registry.resident.events) or the topic it belongs to.
    """
    settings = settings_of(ctx)
    selection = Selection(reason=reason, from_offset=from_offset)
    report = ReplayReport(_topic(settings, topic), selection, dry_run)
    try:
        _run(replay(settings, report, progress=_progress))
    except click.ClickException as exc:
        if report.total_sent and not dry_run:  # what was sent before the error is audited
            report.failure = exc.message
            _summary(report)
            _run(_audit(settings, report))
        raise
    _summary(report)
    if not dry_run:
        _run(_audit(settings, report))


def _progress(report: ReplayReport) -> None:
    verb = "would send" if report.dry_run else "sent"
    click.echo(
        f"  {report.read} read, {verb} {report.total_sent}, "
        f"skipped {sum(report.skipped.values())}, {report.remaining} left to read",
        err=True,
    )


def _summary(report: ReplayReport) -> None:
    topic = report.topic
    by_reason = ", ".join(f"{r} {n}" for r, n in sorted(report.sent.items()))
    skipped = ", ".join(f"{d} {n}" for d, n in sorted(report.skipped.items()))
    if report.dry_run:
        click.echo(
            f"dry run: would replay {report.total_sent} records {topic.dlq} -> {topic.source}"
        )
        for entry in report.samples:
            click.echo(f"  [{entry.partition}] @{entry.offset} {entry.reason}: {entry.detail}")
        if report.total_sent > len(report.samples):
            click.echo(f"  … and {report.total_sent - len(report.samples)} more")
    elif report.total_sent == 0:
        click.echo(
            f"nothing to replay in {topic.dlq}" + (f" (skipped: {skipped})" if skipped else "")
        )
        return
    else:
        click.echo(f"replayed {report.total_sent} records {topic.dlq} -> {topic.source}")
        if report.failure:
            click.echo("  then stopped by an error (below); the records sent are remembered")
    if by_reason:
        click.echo(f"  by reason: {by_reason}")
    if skipped:
        click.echo(f"  skipped: {skipped}")
    if not report.dry_run:
        click.echo(
            f"  records that fail again come back to {topic.dlq}: renkei dlq list {topic.dlq}"
        )


async def _audit(settings: Settings, report: ReplayReport) -> None:
    from renkei.audit import AuditLog

    audit = AuditLog.open(settings)
    try:
        details = report.audit_details() | {"operator": getpass.getuser()}
        await audit.record("dlq.replay", actor="cli:renkei dlq replay", details=details)
    finally:
        await audit.aclose()


@dlq.command("report")
@click.option(
    "--department",
    required=True,
    help="The department whose rejects to report: a provider agreement's department "
    "(市民課), principal (dept-registry) or id.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    show_default=True,
    help="CSV file to write ('-': standard output).",
)
@click.option(
    "--encoding",
    type=click.Choice(ENCODINGS),
    default="utf-8-sig",
    show_default=True,
    help="utf-8-sig (UTF-8 with the BOM spreadsheet programs look for), utf-8, or cp932 "
    "(Shift_JIS for older Windows tools).",
)
@click.option("--since", help="Only records rejected at or after this date or time (UTC, ISO).")
@click.pass_context
def report_cmd(
    ctx: click.Context, department: str, output: str, encoding: str, since: str | None
) -> None:
    """Write what the platform rejected of a department's input, as CSV for its staff.

    One row per problem: when it was rejected, the source record's own position (file and
    line, or database table and log position), its 宛名番号, the field path and the reason.
    No other value of the record, and a key shaped like a 個人番号 is masked. Reads the
    department's dlq.<topic> topics (its agreement grants READ on exactly those) without a
    consumer group: nothing is committed or replayed. Fix the records at their source and send
    them again (docs/reject-report.md).
    """
    from renkei.agreements.model import load_agreements
    from renkei.ops.dlq.report import collect_rejects, department_topics, render_csv

    settings = settings_of(ctx)
    try:
        topics = department_topics(load_agreements(settings.agreements_dir), department)
    except RenkeiError as exc:
        raise click.BadParameter(str(exc), param_hint="--department") from exc
    rows, records = _run(collect_rejects(settings, topics, since))
    data = render_csv(rows, encoding)
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(data)
    where = "" if output == "-" else f" -> {output}"
    dlqs = ", ".join(f"dlq.{topic}" for topic in topics)
    click.echo(
        f"{department}: {records} rejected records, {len(rows)} problems in {dlqs}{where}",
        err=True,
    )
