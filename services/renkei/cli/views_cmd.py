"""``renkei views list|rotate-key``: the purpose views of the agreements and their keys."""

from __future__ import annotations

import click

from renkei.cli.common import catalogue_of, settings_of
from renkei.contracts.views import ViewPlan, load_view_plans
from renkei.stages.views.pseudonym import read_key, rotate_key, secrets_folder
from renkei.topics import topic_config


@click.group("views")
def views() -> None:
    """Purpose-scoped views (view.<purpose>.<short>) built by `renkei worker views`."""


@views.command("list")
@click.pass_context
def list_views(ctx: click.Context) -> None:
    """Each view topic: its source, the agreements reading it, its fields, its retention (the
    topic configs the views stage sets from the agreements), its key id."""
    settings = settings_of(ctx)
    folder = secrets_folder(settings)
    for plan in load_view_plans(settings.agreements_dir, catalogue_of(settings)):
        path = folder / f"{plan.purpose}.key"
        key_id = read_key(path, plan.purpose).key_id if path.exists() else "(not generated yet)"
        click.echo(f"{plan.topic}")
        click.echo(f"  source      {plan.source.topic}  (zone {plan.spec.network_zone})")
        click.echo(f"  agreements  {', '.join(plan.agreements)}")
        click.echo(f"  fields      {', '.join(plan.fields)}")
        click.echo(f"  retention   {_retention(plan)}")
        click.echo(f"  key id      {key_id}")


def _retention(plan: ViewPlan) -> str:
    config = topic_config(plan.spec)
    if "compact" in plan.spec.cleanup_policy:
        return (
            f"compacted, current records kept; superseded within "
            f"{_days(config['max.compaction.lag.ms'])}, tombstones readable "
            f"{_days(config['delete.retention.ms'])}"
        )
    return f"records expire after {_days(config['retention.ms'])}"


def _days(ms: str) -> str:
    days = int(ms) / (24 * 3600 * 1000)
    return f"{days:g} day" + ("" if days == 1 else "s")


@views.command("rotate-key")
@click.argument("purpose")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def rotate(ctx: click.Context, purpose: str, yes: bool) -> None:
    """Replace the pseudonym secret of PURPOSE (every pseudonym of that purpose changes).

    The old secret moves to retired/<purpose>.<key id>.key. Restart the views worker and
    replay its sources (docs/privacy.md, "Rotation") so the view is re-emitted under the new
    pseudonyms; consumers see the new key id in pseudonym_key_id.
    """
    settings = settings_of(ctx)
    if not yes:
        click.confirm(f"Rotate the pseudonym key of {purpose!r}?", abort=True)
    key, retired = rotate_key(secrets_folder(settings), purpose)
    where = f"; old key kept as {retired}" if retired else ""
    click.echo(f"{purpose}: new key id {key.key_id}{where}")
