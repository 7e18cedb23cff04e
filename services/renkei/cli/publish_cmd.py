"""``renkei publish TOPIC FILE``: publish a department's JSON Lines file, reporting bad lines."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from renkei.cli.common import catalogue_of, run, settings_of
from renkei.errors import InvalidRecord
from renkei.publish.jsonl import JsonLine, open_input, read_json_lines
from renkei.publish.producer import Publisher, wait_acked
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.schemas.models import RecordValidator
from renkei.settings import Settings


@dataclass
class PublishReport:
    read: int = 0
    valid: int = 0
    published: int = 0
    invalid_lines: list[int] = field(default_factory=list)

    def reject(self, line: JsonLine, problems: Sequence[tuple[str, str]]) -> None:
        self.invalid_lines.append(line.number)
        for path, reason in problems:
            click.secho(f"line {line.number}: {path}: {reason}", fg="red", err=True)


@click.command("publish")
@click.argument("topic")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Validate every line; publish nothing.")
@click.pass_context
def publish(ctx: click.Context, topic: str, file: str, dry_run: bool) -> None:
    """Publish the JSON Lines FILE (one event per line, '-' for stdin) to TOPIC.

    Each line is validated against TOPIC's schema (types, required fields, check digits,
    code lists) and refused if any field holds a 個人番号 (My Number). Invalid lines are reported
    with line number, field and reason; valid lines are published (acks=all, idempotent).
    Exits 1 if any line was invalid, 0 otherwise.
    """
    settings = settings_of(ctx)
    catalogue = catalogue_of(settings)
    spec = catalogue.get(topic)
    with open_input(file) as stream:
        lines = list(read_json_lines(stream))
    if dry_run:
        report = _validate_only(spec, lines)
        click.echo(
            f"{topic}: {report.read} lines, {report.valid} valid, "
            f"{len(report.invalid_lines)} invalid (dry run: nothing published)"
        )
    else:
        report = run(_publish(settings, catalogue, spec, lines))
        click.echo(
            f"{topic}: {report.read} lines, {report.published} published, "
            f"{len(report.invalid_lines)} invalid"
        )
    if report.invalid_lines:
        sys.exit(1)


def _validate_only(spec: TopicSpec, lines: list[JsonLine]) -> PublishReport:
    validator = RecordValidator(spec.schema)
    report = PublishReport(read=len(lines))
    for line in lines:
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
    settings: Settings, catalogue: Catalogue, spec: TopicSpec, lines: list[JsonLine]
) -> PublishReport:
    report = PublishReport(read=len(lines))
    async with Publisher(settings, catalogue) as publisher:
        futures: list[asyncio.Future[Any]] = []
        for line in lines:
            if line.problems:
                report.reject(line, line.problems)
                continue
            try:
                record = await publisher.prepare(spec.topic, line.value)
            except InvalidRecord as exc:
                report.reject(line, exc.reasons)
                continue
            report.valid += 1
            futures.append(await publisher.send(record))
        report.published = await wait_acked(futures, spec.topic)
    return report
