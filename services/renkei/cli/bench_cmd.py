"""``renkei bench``: pipeline events/s next to raw-client baselines (same broker, same run)."""

from __future__ import annotations

import json
import platform
import statistics
import uuid

import click

from renkei.bench.baselines import Throughput, fill, passthrough, reencoder
from renkei.bench.workload import initial_load
from renkei.cli.common import catalogue_of, run, settings_of
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.settings import Settings
from renkei.topics import ensure_topics

SOURCE_TOPIC = "registry.resident.events"


@click.command("bench")
@click.option(
    "--residents",
    type=click.IntRange(min=100),
    default=20_000,
    show_default=True,
    help="Residents in the simulated initial load.",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs per figure; the median is reported.",
)
@click.option("--municipality", default="011011", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@click.pass_context
def bench(ctx: click.Context, residents: int, runs: int, municipality: str, as_json: bool) -> None:
    """Measure L1 (raw aiokafka consume→produce), L2 (L1 + fastavro decode/encode) on the
    resident events of an initial load of N residents, on the running local stack.

    Each figure is the median of --runs runs on fresh bench topics (deleted afterwards is up to
    the operator: they are prefixed `bench-`). Needs `renkei stack up` and `renkei schemas apply`.
    """
    settings = settings_of(ctx)
    results = run(_bench(settings, catalogue_of(settings), residents, runs, municipality))
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    click.echo(f"machine: {results['machine']}")
    click.echo(
        f"input: {results['events']} resident events ({residents} residents), median of {runs} runs"
    )
    for name in ("l1", "l2"):
        click.echo(f"  {name.upper():<12} {results[f'{name}_events_per_s']:>10,.0f} events/s")


async def _bench(
    settings: Settings, catalogue: Catalogue, residents: int, runs: int, municipality: str
) -> dict[str, object]:
    click.echo(f"preparing an initial load of {residents} residents…", err=True)
    load = await initial_load(settings, catalogue, residents, municipality)
    source_spec = catalogue.get(SOURCE_TOPIC)
    values = load[SOURCE_TOPIC]
    figures: dict[str, list[Throughput]] = {"l1": [], "l2": []}
    for number in range(1, runs + 1):
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        src, l1, l2 = (f"{prefix}.{name}" for name in ("src", "l1", "l2"))
        await ensure_topics(settings, [_renamed(source_spec, t) for t in (src, l1, l2)])
        await fill(settings, src, values)
        figures["l1"].append(await passthrough(settings, src, l1, len(values), name="L1"))
        figures["l2"].append(
            await passthrough(
                settings, src, l2, len(values), reencoder(source_spec.schema), name="L2"
            )
        )
        click.echo(
            f"run {number}/{runs}: "
            + ", ".join(f"{k.upper()} {v[-1].per_second:,.0f}/s" for k, v in figures.items()),
            err=True,
        )
    return {
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "events": len(values),
        "runs": runs,
        **{
            f"{k}_events_per_s": round(statistics.median(t.per_second for t in v))
            for k, v in figures.items()
        },
    }


def _renamed(spec: TopicSpec, topic: str) -> TopicSpec:
    from dataclasses import replace

    return replace(spec, topic=topic, metadata={**spec.metadata, "topic": topic})


def _cores() -> int:
    import os

    return os.cpu_count() or 1
