"""``renkei bench``: pipeline events/s next to raw-client baselines (same broker, same run)."""

from __future__ import annotations

import json
import platform
import statistics
import uuid

import click

from renkei.bench.baselines import Throughput, fill, passthrough, reencoder
from renkei.bench.stages import prepare_prefixed, run_stages
from renkei.bench.workload import initial_load
from renkei.cli.common import catalogue_of, run, settings_of
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.settings import Settings
from renkei.topics import ensure_topics

SOURCE_TOPIC = "registry.resident.events"
PIPELINE = ("standardize", "resident", "region", "evacuation")
PIPELINE_OUTPUTS = [
    "unified.resident",
    "internal.resident.facts",
    "unified.region",
    "derived.evacuation-support",
]


@click.command("bench")
@click.option(
    "--residents",
    type=click.IntRange(min=100),
    default=10_000,
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
    """Events/s of an initial load of N residents on the running local stack.

    \b
    L1           raw aiokafka consume→produce of the resident events' bytes
    L2           L1 + fastavro decode and re-encode of every value
    standardize  `renkei worker standardize` over every department record of the load
    pipeline     all four stages (standardize → resident → region → evacuation)
    Baselines use the resident events only; the stages get every department topic of the
    load (the figure divides all input records by the time the outputs took). Stage time is
    from the first to the last output record (broker timestamps), start-up excluded. Each
    figure is the median of --runs runs on fresh topics prefixed `bench-` (left for
    inspection). Needs `renkei stack up`.
    """
    settings = settings_of(ctx)
    results = run(_bench(settings, catalogue_of(settings), residents, runs, municipality))
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    click.echo(f"machine: {results['machine']}")
    click.echo(
        f"input: {residents} residents: {results['events']} resident events (L1/L2), "
        f"{results['records']} department records (stages); median of {runs} runs"
    )
    for name in ("l1", "l2", "standardize", "pipeline"):
        click.echo(f"  {name:<12} {results[f'{name}_events_per_s']:>10,.0f} events/s")
    click.echo(f"  standardize = {results['standardize_vs_l2_percent']} % of L2")


async def _bench(
    settings: Settings, catalogue: Catalogue, residents: int, runs: int, municipality: str
) -> dict[str, object]:
    click.echo(f"preparing an initial load of {residents} residents…", err=True)
    load = await initial_load(settings, catalogue, residents, municipality)
    source_spec = catalogue.get(SOURCE_TOPIC)
    values = load[SOURCE_TOPIC]
    figures: dict[str, list[Throughput]] = {"l1": [], "l2": [], "standardize": [], "pipeline": []}
    log_dir = settings.home / "logs"
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
        for stage_set, outputs in (
            (["standardize"], [f"std.{t}" for t in load]),
            (list(PIPELINE), PIPELINE_OUTPUTS),
        ):
            name = "pipeline" if len(stage_set) > 1 else "standardize"
            prefix = f"bench-{uuid.uuid4().hex[:8]}."
            await prepare_prefixed(settings, catalogue, prefix)
            figures[name].append(
                await run_stages(settings, load, prefix, stage_set, outputs, log_dir, name)
            )
        click.echo(
            f"run {number}/{runs}: "
            + ", ".join(f"{k.upper()} {v[-1].per_second:,.0f}/s" for k, v in figures.items()),
            err=True,
        )
    medians = {
        f"{k}_events_per_s": round(statistics.median(t.per_second for t in v))
        for k, v in figures.items()
    }
    return {
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "events": len(values),
        "records": sum(len(v) for v in load.values()),
        "runs": runs,
        **medians,
        "standardize_vs_l2_percent": round(
            100 * medians["standardize_events_per_s"] / max(medians["l2_events_per_s"], 1), 1
        ),
    }


def _renamed(spec: TopicSpec, topic: str) -> TopicSpec:
    from dataclasses import replace

    return replace(spec, topic=topic, metadata={**spec.metadata, "topic": topic})


def _cores() -> int:
    import os

    return os.cpu_count() or 1
