"""``renkei agreements check|apply``: data-sharing agreements (deploy/agreements/*.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from renkei.agreements.lint import Problem, lint_agreements
from renkei.agreements.model import Agreement, agreement_files, check_unique, load_agreement
from renkei.cli.common import catalogue_of, settings_of
from renkei.errors import ConfigurationError

_DIR_HELP = "Agreements folder (default: RENKEI_AGREEMENTS_DIR, else deploy/agreements)."


@click.group("agreements")
def agreements() -> None:
    """Lint data-sharing agreements and apply them as Kafka users and ACLs."""


def _load_all(folder: Path) -> tuple[list[Agreement], list[Problem]]:
    """Every agreement that parses, and one problem per file that does not."""
    loaded: list[Agreement] = []
    problems: list[Problem] = []
    for path in agreement_files(folder):
        try:
            loaded.append(load_agreement(path))
        except ConfigurationError as exc:
            problems.append(Problem(path.stem, "invalid", str(exc).replace("\n", " ")))
    for line in check_unique(loaded):
        agreement, _, message = line.partition(": ")
        problems.append(Problem(agreement, "invalid", message))
    return loaded, problems


@agreements.command("check")
@click.option("--dir", "folder", type=click.Path(path_type=Path), help=_DIR_HELP)
@click.pass_context
def check(ctx: click.Context, folder: Path | None) -> None:
    """Lint every agreement: unknown topics or fields, over-broad grants, zone violations.

    Prints one line per problem (``<agreement>: <kind>: <message>``) and exits 1 if there is
    any; exits 0 with a summary when all agreements are clean.
    """
    settings = settings_of(ctx)
    folder = folder or settings.agreements_dir
    loaded, problems = _load_all(folder)
    problems += lint_agreements(loaded, catalogue_of(settings))
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.secho(f"{len(problems)} problem(s) in {folder}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{len(loaded)} agreement(s) in {folder}: no problems")
