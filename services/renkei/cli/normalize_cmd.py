"""``renkei normalize address|date TEXT|-``: standardize one value, or one per stdin line.

Prints one JSON object per input (``ensure_ascii=False``), in input order: the standardized
fields, or ``{"input", "error"}`` when the value cannot be resolved. The exit code is 1 when
any input failed (with ``-``, after every line has been printed). Errors name no input values
except the ``input`` field the caller supplied.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO, cast

import click

from renkei.normalize.errors import StandardizationError

Converter = Callable[[str], dict[str, Any]]


@click.group("normalize")
def normalize() -> None:
    """Standardize legacy values the way the standardize stage does (no Kafka needed)."""


@normalize.command("address")
@click.argument("text")
@click.option(
    "--postal-code",
    metavar="CODE",
    help="Postal code recorded beside the address (only for TEXT, not for -).",
)
@click.pass_context
def address(ctx: click.Context, text: str, postal_code: str | None) -> None:
    """Resolve an address to prefecture, municipality, 町域 and region code.

    TEXT is one address, or - to read one address per line from stdin. Output fields: input,
    municipality_code, region_code, prefecture, city, town, chome, rest, postal_code, building.
    """
    from renkei.normalize.addresses import AddressIndex, standardize_address

    if postal_code is not None and text == "-":
        raise click.UsageError("--postal-code goes with one TEXT, not with - (stdin)")
    index = AddressIndex.default()  # loaded once, before the first line

    def convert(value: str) -> dict[str, Any]:
        std = standardize_address(value, postal_code, index)
        return {
            "municipality_code": std.municipality_code,
            "region_code": std.region_code,
            "prefecture": std.prefecture,
            "city": std.city,
            "town": std.town,
            "chome": std.chome,
            "rest": std.rest,
            "postal_code": std.postal_code,
            "building": std.building,
        }

    _run(ctx, text, convert)


@normalize.command("date")
@click.argument("text")
@click.pass_context
def date(ctx: click.Context, text: str) -> None:
    """Read a 和暦 or 西暦 date (昭和55年4月1日, S55.04.01, 2026/4/1 …) as an ISO date.

    TEXT is one date, or - to read one date per line from stdin. Output fields: input, date.
    """
    from renkei.normalize.dates import parse_date

    _run(ctx, text, lambda value: {"date": parse_date(value).isoformat()})


@normalize.command("corpus")
@click.option("--size", type=click.IntRange(100, 1_000_000), default=20000, show_default=True)
@click.option(
    "--part",
    type=click.Choice(["evaluation", "tuning", "all"]),
    default="evaluation",
    show_default=True,
    help="Which rows: the evaluation fifth kept apart from tuning, the tuning rest, or all.",
)
@click.option("--seed", type=int, default=None, help="Sampling seed (default: the fixed one).")
@click.option("--plain", is_flag=True, help="Only the basic forms, not the harder spellings.")
@click.option("--show-failures", type=int, default=0, metavar="N", help="Print N failures.")
def corpus(size: int, part: str, seed: int | None, plain: bool, show_failures: int) -> None:
    """Measure the address normalizer on a corpus written from real Japan Post rows.

    Prints the share of addresses resolved to the expected municipality and region code, by
    category of spelling (docs/addresses.md), and addresses per second. Exit code 0 whatever
    the figure: this is a measurement, not a check.
    """
    from renkei.normalize.address_corpus import (
        DEFAULT_SEED,
        Part,
        build_corpus,
        evaluate,
        format_report,
    )
    from renkei.normalize.address_index import AddressIndex

    started = time.perf_counter()
    index = AddressIndex.default()
    load_seconds = time.perf_counter() - started
    built = build_corpus(
        size,
        DEFAULT_SEED if seed is None else seed,
        part=cast(Part, part),
        variants=not plain,
    )
    report = evaluate(built, index, keep_failures=show_failures)
    click.echo(f"part: {part}, seed {DEFAULT_SEED if seed is None else seed}")
    click.echo(format_report(built, report, load_seconds))
    for address, got in report.failures[:show_failures]:
        click.echo(
            f"  FAIL {address.text!r} postal={address.postal_code} "
            f"expected={address.region_code} got={got} {address.categories}"
        )


def _run(ctx: click.Context, text: str, convert: Converter) -> None:
    inputs = _stdin_lines() if text == "-" else iter((text,))
    out = click.get_text_stream("stdout", encoding="utf-8")
    failed = _print_results(inputs, convert, out)
    if failed:
        ctx.exit(1)


def _print_results(inputs: Iterable[str], convert: Converter, out: TextIO) -> int:
    """Print one JSON line per input; return how many failed."""
    failed = 0
    for value in inputs:
        try:
            result = {"input": value, **convert(value)}
        except StandardizationError as exc:
            failed += 1
            result = {"input": value, "error": exc.reason}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()  # a line out per line in: usable as a filter in a pipe
    return failed


def _stdin_lines() -> Iterator[str]:
    """Lines of stdin as UTF-8 whatever the locale, without their line break."""
    stream = click.get_binary_stream("stdin")
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
