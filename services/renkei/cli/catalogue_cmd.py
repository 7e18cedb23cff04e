"""``renkei catalogue serve|export``: the data catalogue page for staff, and its DCAT export."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from renkei.cli.common import run, settings_of
from renkei.contracts.names import TopicNames
from renkei.data_catalogue.dcat import dcat_document
from renkei.data_catalogue.live import TopicReader, gather_live
from renkei.data_catalogue.server import choose_login, load_model, serve_until_signal
from renkei.data_catalogue.settings import CatalogueSettings
from renkei.data_catalogue.versions import subject_history
from renkei.serde.registry import registry_client


def _page_settings(**overrides: object) -> CatalogueSettings:
    try:
        return CatalogueSettings.model_validate(
            {k: v for k, v in overrides.items() if v is not None}
        )
    except ValidationError as exc:
        raise click.UsageError(f"invalid RENKEI_CATALOGUE_* setting: {exc}") from exc


@click.group("catalogue")
def catalogue() -> None:
    """The data catalogue (データカタログ) for staff: every topic, its fields and PII classes,
    owners, versions, who may use it and why, the lineage graph and live figures
    (docs/catalogue.md)."""


@catalogue.command("serve")
@click.option("--bind", help="Interface to listen on (RENKEI_CATALOGUE_BIND, 127.0.0.1).")
@click.option("--port", type=int, help="HTTP port (RENKEI_CATALOGUE_PORT, 8094).")
@click.option(
    "--secure",
    is_flag=True,
    help="Refuse to start without a staff login (RENKEI_STAFF_USERS_FILE or "
    "RENKEI_CATALOGUE_IDENTITY); implied when RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL.",
)
@click.option(
    "--open-access",
    is_flag=True,
    default=None,
    help="DEVELOPMENT ONLY: serve without any staff login, even in a secure deployment "
    "(RENKEI_CATALOGUE_OPEN_ACCESS; a warning banner is logged at every start).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    bind: str | None,
    port: int | None,
    secure: bool,
    open_access: bool | None,
) -> None:
    """Serve the catalogue page (Japanese first, English switch) until Ctrl-C or SIGTERM.

    The page reads the schema catalogue and the agreements at start (a bad file stops it at
    once), then the registry, Kafka and the workers' /metrics while it runs; it stays up and
    says so when one of them is down. Open http://127.0.0.1:8094/ ; DCAT JSON-LD at
    /catalogue.jsonld.

    Staff login: with RENKEI_STAFF_USERS_FILE (a users file, `renkei identity hash`) every page
    but /health/* needs a signed-in user. Without one the page refuses to start in a secure
    deployment (SASL_SSL Kafka or --secure) and runs open, with a warning, on the plaintext
    development stack. Exits 1 when the port is taken, or a file, the users file or the
    identity module is unusable.
    """
    settings = settings_of(ctx)
    page_settings = _page_settings(bind=bind, port=port, open_access=open_access or None)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        identity = choose_login(settings, page_settings, secure=secure)
    except ValidationError as exc:
        raise click.UsageError(f"invalid RENKEI_STAFF_* setting: {exc}") from exc
    try:
        run(serve_until_signal(settings, page_settings, identity))
    except OSError as exc:
        raise click.ClickException(
            f"cannot serve on {page_settings.bind}:{page_settings.port}: {exc.strerror or exc}"
        ) from exc


@catalogue.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON-LD here (default: standard output).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Only the repository's files: no registry versions, no newest-record times.",
)
@click.pass_context
def export(ctx: click.Context, out: Path | None, offline: bool) -> None:
    """Write the catalogue as DCAT JSON-LD (dcat:Catalog with a dcat:Dataset per topic), for a
    CKAN-style portal to harvest (ckanext-dcat). Dataset IRIs use RENKEI_CATALOGUE_BASE_URL.
    Without --offline it reads the registry and Kafka, and fails when they do not answer."""
    settings = settings_of(ctx)
    page_settings = _page_settings()
    model = load_model(settings)

    async def online() -> dict[str, object]:
        names = TopicNames(settings.topic_prefix)
        async with registry_client(settings) as client:
            histories = {
                entry.topic: await subject_history(
                    client, names.subject(entry.topic), entry.spec.schema
                )
                for entry in model.entries.values()
            }
        failed = sorted({h.error for h in histories.values() if h.error})
        if failed:
            raise click.ClickException(f"the registry did not answer: {failed[0]} (or --offline)")
        reader = TopicReader(settings)
        try:
            live = await gather_live(
                settings, reader, list(model.entries), page_settings.window_seconds
            )
        finally:
            await reader.close()
        if live.kafka_error:
            raise click.ClickException(f"{live.kafka_error} (or --offline)")
        return dcat_document(
            model,
            base_url=page_settings.public_url(),
            publisher=page_settings.publisher,
            histories=histories,
            live=live,
        )

    document = (
        dcat_document(model, base_url=page_settings.public_url(), publisher=page_settings.publisher)
        if offline
        else run(online())
    )
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(document['dcat:dataset'])} datasets to {out}", err=True)  # type: ignore[arg-type]
