"""``renkei bench``: pipeline figures next to raw-client baselines (same broker, same run), and
``renkei bench load``: the initial-load benchmark (scaled toward Yokohama's 3.8 M residents)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from renkei.bench.report import table
from renkei.bench.suite import FIGURES, BenchOptions, run_suite
from renkei.cli.bench_load_cmd import load
from renkei.cli.bench_options import output_options, web_port_base
from renkei.cli.bench_state_cmd import state
from renkei.cli.common import catalogue_of, run, settings_of


def _figures(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in chosen if v not in FIGURES]
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown figure(s) {', '.join(unknown) or '(none)'}; choose from {','.join(FIGURES)}"
        )
    return chosen


@click.group("bench", invoke_without_command=True)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs (windows) per figure; the median is reported.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds of steady state per run.",
)
@click.option(
    "--warmup",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Seconds discarded before the first window (baselines, standardize).",
)
@click.option(
    "--only",
    default=",".join(FIGURES),
    show_default=True,
    callback=_figures,
    help="Comma-separated subset of: " + ",".join(FIGURES) + ".",
)
@click.option(
    "--residents",
    type=click.IntRange(min=100),
    default=10_000,
    show_default=True,
    help="Residents of the initial load the pipeline drains (and the latency run alerts on).",
)
@click.option(
    "--municipality",
    default="133621",
    show_default=True,
    help="Municipality of the load; the default (利島村) has a single 町域, so the "
    "evacuation list covers a region of --residents residents.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=1),
    default=100.0,
    show_default=True,
    help="Events/s of the steady input in the latency run.",
)
@click.option(
    "--alert-every",
    type=click.FloatRange(min=0.5),
    default=2.0,
    show_default=True,
    help="Seconds between alerts in the latency run.",
)
@click.option(
    "--std-records",
    type=click.IntRange(min=1000),
    default=None,
    help="Backlog for the standardize windows [default: sized from L2].",
)
@click.option(
    "--baseline-records",
    type=click.IntRange(min=1000),
    default=20_000,
    show_default=True,
    help="Records L1/L2 read in a loop.",
)
@web_port_base("four")
@click.option(
    "--worker-python",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Interpreter of the stage workers, e.g. another checkout's .venv/bin/python "
    "(before/after comparison in one time window) [default: this one].",
)
@output_options
@click.pass_context
def bench(ctx: click.Context, /, as_json: bool, **options: Any) -> None:
    """Throughput and latency figures on the running local stack (`renkei stack up`).

    \b
    L1           raw aiokafka consume→produce of resident events' bytes (a looped topic)
    L2           L1 + fastavro decode and re-encode of every value
    standardize  `renkei worker standardize` over a backlog of department records
    pipeline     all four stages draining an initial load of --residents residents
                 (department records ÷ first-to-last output, broker timestamps)
    latency      on that loaded pipeline: --rate events/s for --duration s, freshness =
                 publish → unified.resident; an alert every --alert-every s, list =
                 publish → derived.evacuation-support (p50/p99)
    latency_bulk the same window again while a bulk load of --residents other residents
                 drains on the bulk lanes (<topic>.bulk; on the live topics for workers
                 without lanes, see bulk_load_to): *_bulk keys, bulk_drain_s
    Each figure is the median of --runs runs of --duration s steady state; L1, L2 and
    standardize runs are consecutive windows after a warm-up, each pipeline run is a fresh set
    of topics and workers. `renkei bench load` is the initial-load benchmark.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_of(ctx)
    opts = BenchOptions(**options)
    results = run(
        run_suite(settings, catalogue_of(settings), opts, lambda m: click.echo(m, err=True))
    )
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    for line in table(results):
        click.echo(line)


bench.add_command(load)
bench.add_command(state)
