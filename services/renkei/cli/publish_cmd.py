"""``renkei publish TOPIC FILE``: publish a department's JSON Lines file, reporting bad lines.

The input is streamed: lines (JSON Lines) and rows (CSV, fixed-width, any encoding) are read,
validated and sent one at a time, and deliveries are awaited per window of
:data:`ACK_WINDOW` records, so memory stays flat whatever the file's size. Only the
snapshot diff (``--diff-against``) keeps the *previous* export in memory, indexed by key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from renkei.cli.common import catalogue_of, run, settings_of
from renkei.contracts.dlq import SOURCE_POSITION_HEADER
from renkei.errors import InvalidRecord
from renkei.input_formats.csv_events import CsvEventBuilder
from renkei.input_formats.csv_mapping import CsvMapping, load_mapping
from renkei.input_formats.export_rows import read_export_rows
from renkei.input_formats.snapshot_diff import diff_snapshots
from renkei.publish.jsonl import JsonLine, open_input, read_json_lines
from renkei.publish.producer import Publisher, wait_acked
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.schemas.jsonform import JST
from renkei.schemas.models import RecordValidator
from renkei.settings import Settings

ACK_WINDOW = 5000
"""Records sent before their deliveries are awaited (and their futures dropped): bounds the
memory ``renkei publish`` holds for a file of any size."""


@dataclass
class PublishReport:
    read: int = 0
    valid: int = 0
    published: int = 0
    dead_lettered: int = 0
    dlq_topic: str = ""
    invalid: int = 0

    def reject(self, line: JsonLine, problems: Sequence[tuple[str, str]]) -> None:
        self.invalid += 1
        for path, reason in problems:
            click.secho(f"line {line.number}: {path}: {reason}", fg="red", err=True)


@click.command("publish")
@click.argument("topic")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Validate every line; publish nothing.")
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["jsonl", "csv", "fixed"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one JSON event per line. csv: a legacy export with a header row, read with "
    "--mapping (CP932 or UTF-8, 和暦 dates, half-width kana). fixed: a fixed-width (固定長) "
    "export, read with a --mapping that has a byte layout.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Mapping file (YAML): column -> field (docs/csv-input.md); for fixed-width files "
    "with the columns' byte positions (docs/fixed-width-input.md).",
)
@click.option(
    "--diff-against",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Snapshot-diff mode: FILE is today's full export, this is the previous one; "
    "publish the change events between them.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Effective date of snapshot-diff events (default: today).",
)
@click.option(
    "--bulk/--live",
    "bulk",
    default=None,
    help="Publish to TOPIC's bulk lane (TOPIC.bulk: initial snapshots, yearly batches, "
    "replays; the stages take it only while the live topic has no lag) or to the live topic. "
    "Default: the bulk lane for an initial load (--diff-against a previous export with no "
    "rows), the live topic otherwise.",
)
@click.pass_context
def publish(
    ctx: click.Context,
    topic: str,
    file: str,
    dry_run: bool,
    input_format: str,
    mapping: Path | None,
    diff_against: Path | None,
    as_of: dt.datetime | None,
    bulk: bool | None,
) -> None:
    """Publish FILE ('-' for stdin) to TOPIC: JSON Lines, or a legacy CSV or fixed-width
    export with --mapping.

    Each event is validated against TOPIC's schema (types, required fields, check digits,
    code lists) and refused if any field holds a 個人番号 (My Number). Invalid lines are reported
    with line number, field and reason, and kept in dlq.TOPIC (JSON, My Numbers masked; not with
    --dry-run); valid events are published (acks=all, idempotent). Lines longer than 1 MiB are
    refused. Exits 1 if any line was invalid, 0 otherwise.

    A bulk export (a department's first full load, the yearly checkup batch, a replay) goes to
    the topic's bulk lane with --bulk, so it never delays live changes and alerts
    (docs/performance.md, "Lanes"); invalid lines are kept in dlq.TOPIC either way.
    """
    settings = settings_of(ctx)
    catalogue = catalogue_of(settings)
    spec = catalogue.get(topic)
    if spec.bulk_of is not None:
        raise click.UsageError(f"name the live topic ({spec.bulk_of}) and add --bulk")
    if bulk is None:
        bulk = diff_against is not None and initial_load(diff_against, mapping)
    if bulk and not spec.bulk_lane:
        lanes = ", ".join(t.removesuffix(".bulk") for t in catalogue.bulk_topics())
        raise click.UsageError(f"{topic} has no bulk lane (topics with one: {lanes})")
    if input_format != "jsonl" or mapping or diff_against:
        if mapping is None:
            raise click.UsageError(f"--format {input_format} needs --mapping MAPPING.yaml")
        loaded = load_mapping(mapping)
        if input_format != "jsonl" and input_format != loaded.format:
            raise click.UsageError(
                f"--format {input_format}, but the mapping is for format {loaded.format!r}"
            )
        if loaded.topic != spec.topic:
            raise click.UsageError(f"the mapping is for {loaded.topic!r}, not {spec.topic!r}")
        lines = csv_lines(spec, loaded, file, diff_against, as_of)
    else:
        lines = json_lines(file)
    if dry_run:
        report = _validate_only(spec, lines)
        click.echo(
            f"{topic}: {report.read} lines, {report.valid} valid, "
            f"{report.invalid} invalid (dry run: nothing published)"
        )
    else:
        source = "stdin" if file == "-" else Path(file).name
        report = run(_publish(settings, catalogue, spec, lines, source, bulk=bool(bulk)))
        dlq = f" (kept in {report.dlq_topic})" if report.dead_lettered else ""
        lane = f" to the bulk lane {topic}.bulk" if bulk else ""
        click.echo(
            f"{topic}: {report.read} lines, {report.published} published{lane}, "
            f"{report.invalid} invalid{dlq}"
        )
    if report.invalid:
        sys.exit(1)


def initial_load(previous: Path, mapping: Path | None) -> bool:
    """Whether a snapshot diff is a first load: the previous export has no rows."""
    if mapping is None:
        return False
    with previous.open("rb") as stream:
        return next(iter(read_export_rows(stream, load_mapping(mapping))), None) is None


def json_lines(file: str) -> Iterator[JsonLine]:
    """The lines of a JSON Lines file ('-' for stdin), read one at a time."""
    with open_input(file) as stream:
        yield from read_json_lines(stream)


def csv_lines(
    spec: TopicSpec,
    mapping: CsvMapping,
    file: str,
    diff_against: Path | None,
    as_of: dt.datetime | None,
) -> Iterator[JsonLine]:
    """Events from a CSV or fixed-width export (or from two, in snapshot-diff mode) as
    numbered lines, read row by row (the previous export of a diff is indexed first)."""
    builder = CsvEventBuilder(mapping, spec, imported_at=dt.datetime.now(dt.UTC))
    if diff_against is None:
        with open_input(file) as stream:
            for row in read_export_rows(stream, mapping):
                yield builder.build(row)
        return
    day = (as_of or dt.datetime.now(JST)).date()
    with diff_against.open("rb") as old_stream, open_input(file) as stream:
        old_rows = read_export_rows(old_stream, mapping)
        yield from diff_snapshots(builder, old_rows, read_export_rows(stream, mapping), day)


def _validate_only(spec: TopicSpec, lines: Iterable[JsonLine]) -> PublishReport:
    validator = RecordValidator(spec.schema)
    report = PublishReport()
    for line in lines:
        report.read += 1
        if line.problems:
            report.reject(line, line.problems)
            continue
        try:
            validator.validate(line.value)
        except InvalidRecord as exc:
            report.reject(line, exc.reasons)
            continue
        report.valid += 1
    return report


async def _publish(
    settings: Settings,
    catalogue: Catalogue,
    spec: TopicSpec,
    lines: Iterable[JsonLine],
    source: str,
    *,
    bulk: bool = False,
) -> PublishReport:
    report = PublishReport()
    async with Publisher(settings, catalogue, bulk=bulk) as publisher:
        report.dlq_topic = publisher.dlq_topic(spec.topic)
        futures: list[asyncio.Future[Any]] = []
        rejected: list[asyncio.Future[Any]] = []
        for line in lines:
            report.read += 1
            if len(futures) >= ACK_WINDOW:  # wait for a window, keep nothing of it
                report.published += await wait_acked(futures, spec.topic)
                futures.clear()
            if len(rejected) >= ACK_WINDOW:
                report.dead_lettered += await wait_acked(rejected, report.dlq_topic)
                rejected.clear()
            problems = line.problems
            if not problems:
                try:
                    record = await publisher.prepare(spec.topic, line.value)
                except InvalidRecord as exc:
                    problems = tuple(exc.reasons)
                else:
                    position = f"{source} line {line.number}".encode()
                    record.headers.append((SOURCE_POSITION_HEADER, position))
                    report.valid += 1
                    futures.append(await publisher.send(record))
                    continue
            report.reject(line, problems)
            origin = f"{source} line {line.number}"
            rejected.append(
                await publisher.dead_letter(spec.topic, line.value, problems, origin=origin)
            )
        report.published += await wait_acked(futures, spec.topic)
        report.dead_lettered += await wait_acked(rejected, report.dlq_topic)
    return report
