"""``renkei disclosure snapshot|run|measure``: the audited region snapshots (開示制御)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from typing import Any

import click

from renkei.cli.common import run, settings_of
from renkei.contracts.jobs import job_spec
from renkei.disclosure.job import SnapshotReport, release_all, run_every, take_snapshot
from renkei.disclosure.perturbation import DEFAULT_ALPHA
from renkei.disclosure.release import DisclosureRules, Release
from renkei.disclosure.table import RATES, TOTAL, UNALLOCATED
from renkei.errors import RenkeiError
from renkei.privacy.protection import K_THRESHOLD

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> dt.timedelta:
    """``30m``, ``6h``, ``1d`` … as a timedelta (click.BadParameter otherwise)."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise click.BadParameter(f"{text!r}: use a positive number and s, m, h or d, e.g. 1d")
    return dt.timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2)])


def _rules_options(function: Any) -> Any:
    function = click.option(
        "--alpha",
        type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
        default=DEFAULT_ALPHA,
        show_default=True,
        help="Ratio of the two-sided geometric perturbation of shown counts.",
    )(function)
    function = click.option(
        "--protection",
        type=click.IntRange(min=1),
        default=K_THRESHOLD,
        show_default=True,
        help="Smallest width of a suppressed cell's feasible interval the audit accepts.",
    )(function)
    return click.option(
        "--k",
        "k",
        type=click.IntRange(min=1),
        default=K_THRESHOLD,
        show_default=True,
        help="Primary suppression: counts below k (rates with a part below k) are suppressed.",
    )(function)


def _print_report(report: SnapshotReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.summary(), ensure_ascii=False))
        return
    verb = "published" if report.published else "computed (not published)"
    click.echo(
        f"snapshot {verb}: cut {report.cut_at.isoformat(timespec='seconds')}, reference date "
        f"{report.reference_date}, {report.residents} residents"
    )
    for release in report.releases:
        s = release.suppression
        click.echo(
            f"  {release.municipality}: {len(release.record['regions']) - 1} 町域, "
            f"{len(s.primary)} primary + {len(s.complementary)} complementary cells suppressed, "
            f"audit passed ({s.audit.solves} LPs, narrowest interval "
            f"{_width(release)})"
        )
    for refused in report.refused:
        click.secho(f"  {refused}", fg="red", err=True)


def _width(release: Release) -> str:
    narrowest = release.suppression.audit.narrowest
    return "-" if narrowest is None else f"{narrowest.width:g}"


@click.group("disclosure")
def disclosure() -> None:
    """Audited region snapshots: the only way region figures leave the platform's own staff.

    Each snapshot reads one consistent cut of internal.resident.facts, builds a table per
    municipality, suppresses cells below k and their complements, proves with linear
    programming that no suppressed cell can be recomputed, perturbs the shown counts
    (cell-key method) and publishes derived.region-snapshot. docs/disclosure-control.md.
    """


@disclosure.command("snapshot")
@_rules_options
@click.option(
    "--reference-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Day ages are taken on (default: the cut's date in Japan time).",
)
@click.option("--dry-run", is_flag=True, help="Compute and audit, publish nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON line.")
@click.pass_context
def snapshot(
    ctx: click.Context,
    k: int,
    protection: int,
    alpha: float,
    reference_date: dt.datetime | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Take one snapshot now; exit 1 when a municipality's table was refused by the audit."""
    settings = settings_of(ctx)
    rules = DisclosureRules(k=k, protection=protection, alpha=alpha)
    day = reference_date.date() if reference_date else None
    report = run(take_snapshot(settings, rules, reference_date=day, publish=not dry_run))
    _print_report(report, as_json)
    if report.refused:
        raise click.exceptions.Exit(1)


@disclosure.command("run")
@_rules_options
@click.option(
    "--every",
    default=job_spec("disclosure").every_default,
    show_default=True,
    help="Interval between snapshots: a number and s, m, h or d (e.g. 6h, 1d).",
)
@click.pass_context
def run_periodic(ctx: click.Context, k: int, protection: int, alpha: float, every: str) -> None:
    """Take a snapshot now and then every --every until stopped (Ctrl-C)."""
    settings = settings_of(ctx)
    interval = parse_every(every)
    rules = DisclosureRules(k=k, protection=protection, alpha=alpha)
    click.echo(f"taking a snapshot every {interval}; Ctrl-C stops")

    def report(outcome: SnapshotReport | RenkeiError) -> None:
        if isinstance(outcome, SnapshotReport):
            _print_report(outcome, as_json=False)
        else:
            click.secho(f"snapshot failed: {outcome}", fg="red", err=True)

    asyncio.run(run_every(settings, rules, interval, on_report=report))


@disclosure.command("measure")
@_rules_options
@click.option("--municipality", default="011011", show_default=True, help="6-digit code.")
@click.option("--residents", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option("--events", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def measure(
    k: int, protection: int, alpha: float, municipality: str, residents: int, events: int, seed: int
) -> None:
    """Suppression, audit and loss of accuracy on a simulated municipality (no Kafka)."""
    from renkei.disclosure.simulated import simulated_people

    people, day = simulated_people(municipality, residents, events, seed)
    rules = DisclosureRules(k=k, protection=protection, alpha=alpha)
    started = time.perf_counter()
    releases, refused = release_all(
        people,
        rules,
        b"renkei-disclosure-measure-secret",
        cut_at=dt.datetime.now(dt.UTC),
        reference_date=day,
        previous={},
    )
    elapsed = time.perf_counter() - started
    click.echo(f"{len(people)} residents of {municipality} on {day} (seed {seed}), {elapsed:.1f}s")
    for release in releases:
        for line in accuracy_lines(release):
            click.echo(f"  {line}")
    for exc in refused:
        click.secho(f"  {exc}", fg="red", err=True)
    if refused:
        raise click.exceptions.Exit(1)


def accuracy_lines(release: Release) -> list[str]:
    """Suppression and the perturbation's error, from the true table kept in the release."""
    table = release.table
    s = release.suppression
    published = [c for c in table.cells if c[0] != UNALLOCATED and not c[1].startswith(_RATE_ONLY)]
    shown = [c for c in published if c not in s.hidden]
    errors = [abs(release.published_value(c) - table.value(c)) for c in shown]
    total_shown = [c for c in shown if c[0] == TOTAL]
    relative = [
        abs(release.published_value(c) - table.value(c)) / table.value(c) for c in total_shown
    ]
    lines = [
        f"{release.municipality}: {len(table.towns)} 町域, {len(published)} published cells",
        f"suppressed: {len(s.primary & set(published))} primary, "
        f"{len(s.complementary & set(published))} complementary "
        f"({100 * len(s.suppressed & set(published)) / max(1, len(published)):.1f} % of cells)",
        f"audit: passed={s.audit.passed}, {s.audit.solves} LPs, narrowest interval "
        f"{_width(release)}",
        f"perturbation of shown counts: mean |error| {sum(errors) / max(1, len(errors)):.2f}, "
        f"max {max(errors, default=0)}, exact {100 * errors.count(0) / max(1, len(errors)):.0f} %",
        "municipality totals: mean relative error "
        f"{100 * sum(relative) / max(1, len(relative)):.3f} %",
    ]
    return lines


_RATE_ONLY = tuple(
    column for pair in RATES.values() for column in pair if column != "checkup_participants"
)
