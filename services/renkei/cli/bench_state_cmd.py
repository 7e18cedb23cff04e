"""``renkei bench state``: the resident worker's memory with N residents in RocksDB."""

from __future__ import annotations

import json

import click

from renkei.bench.state import StateOptions, describe, run_state
from renkei.cli.bench_options import output_options, web_port_base
from renkei.cli.common import catalogue_of, run, settings_of


def _sizes(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part.replace("_", "")) for part in value.split(",")}))
    except ValueError:
        raise click.BadParameter(f"not a comma-separated list of numbers: {value!r}") from None
    if not sizes or sizes[0] < 1000:
        raise click.BadParameter("give at least one size of 1,000 residents or more")
    return sizes


@click.command("state")
@click.option(
    "--sizes",
    default="250000,1000000",
    show_default=True,
    callback=_sizes,
    help="Residents in the resident stage's tables, one restart per size (two or more give "
    "the slope per million residents and its projection to 4 M).",
)
@click.option(
    "--sample",
    type=click.IntRange(min=100),
    default=500,
    show_default=True,
    help="Residents of the real load whose changelog records the synthetic ones copy.",
)
@click.option(
    "--municipality",
    default="141097",
    show_default=True,
    help="Municipality or ward of the sample (default 横浜市港北区).",
)
@web_port_base("two")
@output_options
@click.pass_context
def state(
    ctx: click.Context,
    sizes: tuple[int, ...],
    sample: int,
    municipality: str,
    web_port_base: int,
    keep_topics: bool,
    as_json: bool,
) -> None:
    """Resident worker memory with N residents restored into its RocksDB tables.

    A small real load through standardize → resident gives the stage's own changelog records;
    synthetic copies of them (new identifiers, same sizes) fill the changelogs up to each
    size; the resident worker then starts on an empty data directory, restores its tables
    and serves a held-back registration. Reports, per size, the time until it served, its RSS
    now and at its peak, the RocksDB size on disk, and the slope in MiB per million residents
    projected to 4 M (issue 11's ≤ 2 GB). Needs `renkei stack up`; writes ~1.5 kB per
    resident to the broker (deleted afterwards unless --keep-topics).
    """
    settings = settings_of(ctx)
    opts = StateOptions(sizes, sample, municipality, web_port_base, keep_topics)
    results = run(
        run_state(settings, catalogue_of(settings), opts, lambda m: click.echo(m, err=True))
    )
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    for line in describe(results):
        click.echo(line)
