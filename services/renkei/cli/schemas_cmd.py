"""``renkei schemas apply|check``: the catalogue against the registry (and Kafka topics)."""

from __future__ import annotations

import json
import sys

import click

from renkei.cli.common import catalogue_of, run, settings_of
from renkei.errors import RegistryError
from renkei.schemas.catalogue import Catalogue, TopicSpec
from renkei.schemas.compat import explain
from renkei.serde.registry import RegistryClient, registry_client
from renkei.settings import Settings
from renkei.topics import ensure_topics


@click.group("schemas")
def schemas() -> None:
    """Register the schema catalogue (schemas/avro/) and check changes against the registry."""


@schemas.command("apply")
@click.option("--topic", "only", multiple=True, help="Only these topics (default: all).")
@click.option("--no-topics", is_flag=True, help="Register schemas only; do not create topics.")
@click.option(
    "--topics-only",
    is_flag=True,
    help="Create topics only; do not touch the registry (the secure compose deployment's "
    "access-apply step, before the registry runs).",
)
@click.pass_context
def apply(ctx: click.Context, only: tuple[str, ...], no_topics: bool, topics_only: bool) -> None:
    """Create each topic, register each <topic>-value subject and set its compatibility mode.

    Idempotent: an unchanged schema keeps its id. An incompatible change is refused by the
    registry and reported with the fields at fault; nothing else is stopped by it.
    """
    if no_topics and topics_only:
        raise click.UsageError("--no-topics and --topics-only exclude each other")
    settings = settings_of(ctx)
    specs = _selected(catalogue_of(settings), only)
    failed = run(_apply(settings, specs, create_topics=not no_topics, register=not topics_only))
    if failed:
        click.secho(f"{failed} subject(s) not applied", fg="red", err=True)
        sys.exit(1)


async def _apply(
    settings: Settings, specs: list[TopicSpec], *, create_topics: bool, register: bool = True
) -> int:
    if create_topics:
        for outcome in await ensure_topics(settings, specs):
            color = "yellow" if outcome.action == "mismatch" else None
            click.secho(
                f"topic   {outcome.topic:<36} {outcome.action} ({outcome.detail})", fg=color
            )
    failed = 0
    if not register:
        return failed
    async with registry_client(settings) as client:
        for spec in specs:
            try:
                before = await client.latest(spec.subject)
                schema_id = await client.register(spec.subject, spec.schema_text)
                await client.set_compatibility(spec.subject, spec.compatibility)
            except RegistryError as exc:
                failed += 1
                click.secho(f"subject {spec.subject:<36} REFUSED: {exc}", fg="red", err=True)
                for problem in await _explain(client, spec):
                    click.echo(f"        {problem}", err=True)
                continue
            state = "unchanged" if before and before.get("id") == schema_id else "registered"
            click.echo(f"subject {spec.subject:<36} {state} (id {schema_id}, {spec.compatibility})")
    return failed


@schemas.command("check")
@click.option("--topic", "only", multiple=True, help="Only these topics (default: all).")
@click.pass_context
def check(ctx: click.Context, only: tuple[str, ...]) -> None:
    """Check the catalogue's schemas against what the registry holds, without changing it.

    Exits 1 and names the fields when a schema is incompatible (in the topic's compatibility
    mode) with the registered versions; a subject not yet registered counts as compatible.
    """
    settings = settings_of(ctx)
    specs = _selected(catalogue_of(settings), only)
    if run(_check(settings, specs)):
        sys.exit(1)


async def _check(settings: Settings, specs: list[TopicSpec]) -> int:
    failed = 0
    async with registry_client(settings) as client:
        for spec in specs:
            registered = await client.versions(spec.subject)
            if not registered:
                click.echo(f"subject {spec.subject:<36} new (not registered yet): ok")
                continue
            ok, messages = await client.is_compatible(spec.subject, spec.schema_text)
            problems = await _explain(client, spec, registered)
            if ok:
                same = await _registered_id(client, spec) == registered[-1]["id"]
                status = "unchanged" if same else "compatible"
                click.echo(f"subject {spec.subject:<36} {status} ({spec.compatibility}): ok")
                continue
            failed += 1
            click.secho(
                f"subject {spec.subject:<36} INCOMPATIBLE ({spec.compatibility})",
                fg="red",
                err=True,
            )
            for problem in problems or messages or ["the registry gave no detail"]:
                click.echo(f"        {problem}", err=True)
    return failed


async def _explain(
    client: RegistryClient, spec: TopicSpec, registered: list[dict[str, object]] | None = None
) -> list[str]:
    """Field-level reasons of an incompatibility, from the registered versions."""
    versions = registered if registered is not None else await client.versions(spec.subject)
    old = [json.loads(str(v["schema"])) for v in versions]
    return explain(spec.compatibility, spec.schema, old) if old else []


async def _registered_id(client: RegistryClient, spec: TopicSpec) -> int | None:
    """The id under which exactly this schema is registered (the registry normalizes text)."""
    try:
        return await client.lookup(spec.subject, spec.schema_text)
    except RegistryError as exc:
        if exc.status == 404:
            return None
        raise


def _selected(catalogue: Catalogue, only: tuple[str, ...]) -> list[TopicSpec]:
    return [catalogue.get(t) for t in only] if only else list(catalogue)
