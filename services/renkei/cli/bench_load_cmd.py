"""``renkei bench load``: the initial-load benchmark (Yokohama-scale target, run scaled)."""

from __future__ import annotations

import json

import click

from renkei.bench.initial import LoadOptions, describe, run_initial_load
from renkei.cli.bench_options import output_options, web_port_base
from renkei.cli.common import catalogue_of, run, settings_of


@click.command("load")
@click.option(
    "--residents",
    type=click.IntRange(min=100),
    default=20_000,
    show_default=True,
    help="Residents in the snapshot (Yokohama has ≈ 3.8 M; run scaled).",
)
@click.option(
    "--municipality",
    default="141097",
    show_default=True,
    help="Municipality or ward of the snapshot (default 横浜市港北区).",
)
@web_port_base("three")
@output_options
@click.pass_context
def load(
    ctx: click.Context,
    residents: int,
    municipality: str,
    web_port_base: int,
    keep_topics: bool,
    as_json: bool,
) -> None:
    """Initial load: N residents through standardize → resident → region.

    Reports residents/s (first to last output, broker timestamps), the linear extrapolation
    to Yokohama's 3.8 M residents against the 45-minute target, each worker's RSS with N
    residents in its RocksDB tables, and the resident stage's time to serve again after a
    restart with its RocksDB kept and wiped. Needs `renkei stack up`.
    """
    settings = settings_of(ctx)
    opts = LoadOptions(residents, municipality, web_port_base, keep_topics=keep_topics)
    results = run(
        run_initial_load(settings, catalogue_of(settings), opts, lambda m: click.echo(m, err=True))
    )
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    for line in describe(results):
        click.echo(line)
