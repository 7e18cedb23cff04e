"""``renkei status``: per stage, is it up and ready, how far behind, what went to the DLQ, how
fresh its outputs are, when it last committed."""

from __future__ import annotations

import json
import sys

import click

from renkei.cli.common import run, settings_of
from renkei.contracts.stages import STAGE_NAMES
from renkei.ops.status import StageStatus, gather_status

EXIT_DOWN = 2
"""Exit code when a stage shown is down or not ready (1 stays for errors: Kafka unreachable)."""


@click.command("status")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(STAGE_NAMES),
    help="Only this stage (repeatable; default: every stage).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
@click.pass_context
def status(ctx: click.Context, stages: tuple[str, ...], as_json: bool) -> None:
    """Show each stage's state, lag, DLQ records, freshness p99 and last commit.

    \b
    state        ready | up (not ready: rebalancing, recovering tables) | DOWN
    lag          records in the stage's input topics not yet committed by its
                 consumer group renkei-<stage> (read from Kafka: shown while it is down)
    dlq          records held in dlq.<input topic>
    fresh p99    99th percentile of output time - event time (recorded_at) of what the
                 worker produced since it started, worst output topic
    last commit  seconds since a committed offset of the worker last advanced

    Health and metrics come from each worker's web port (RENKEI_WORKER_WEB_PORT_BASE,
    default 6066-6070). Exit code: 0 when every stage shown is ready, 2 when one is down or
    not ready, 1 when Kafka cannot be reached.
    """
    settings = settings_of(ctx)
    chosen = list(stages) or list(STAGE_NAMES)
    statuses = run(gather_status(settings, chosen))
    if as_json:
        ok = all(s.ready for s in statuses)
        click.echo(json.dumps({"ok": ok, "stages": [s.as_json() for s in statuses]}, indent=2))
    else:
        click.echo(render(statuses))
    if not all(s.ready for s in statuses):
        sys.exit(EXIT_DOWN)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}s" if value < 10 else f"{value:.0f}s"


def _state(s: StageStatus) -> str:
    if s.ready:
        return "ready"
    return "up" if s.up else "DOWN"


def render(statuses: list[StageStatus]) -> str:
    """The table: a line per stage, then a line per consumed topic and per output topic."""
    lines = [f"{'STAGE':<13}{'STATE':<7}{'LAG':>8}{'DLQ':>7}{'FRESH p99':>11}{'LAST COMMIT':>13}"]
    for s in statuses:
        worst = max((v for v in s.freshness_p99.values() if v is not None), default=None)
        commit = "-" if s.last_commit_age is None else f"{_seconds(s.last_commit_age)} ago"
        lines.append(
            f"{s.stage:<13}{_state(s):<7}{s.lag:>8}{s.dlq_records:>7}"
            f"{_seconds(worst):>11}{commit:>13}"
        )
        if not s.ready:
            lines.append(f"  {s.reason} ({s.web})")
        for t in s.inputs:
            dlq = "-" if t.dlq_records is None else str(t.dlq_records)
            never = "" if t.committed or not t.lag else "  (never committed)"
            lines.append(f"  in  {t.topic:<40} lag {t.lag:<8} dlq {dlq}{never}")
        for topic, p99 in s.freshness_p99.items():
            lines.append(f"  out {topic:<40} fresh p99 {_seconds(p99)}")
    return "\n".join(lines)
