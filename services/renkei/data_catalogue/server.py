"""Serve the catalogue page until cancelled (``renkei catalogue serve``)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from renkei.data_catalogue.entries import CatalogueModel, build_model
from renkei.data_catalogue.live import TopicReader
from renkei.data_catalogue.settings import CatalogueSettings
from renkei.data_catalogue.web import CataloguePage, build_app
from renkei.identity import IdentityProvider, IdentitySettings, staff_login
from renkei.identity.web import until_signal
from renkei.schemas.catalogue import load_catalogue
from renkei.serde.registry import registry_client
from renkei.settings import Settings

log = logging.getLogger("renkei.catalogue")


def load_model(settings: Settings) -> CatalogueModel:
    """The catalogue and agreements of ``settings`` as the page's model (ConfigurationError
    naming the file when one is unreadable)."""
    return build_model(load_catalogue(settings.schemas_dir), settings.agreements_dir)


def choose_login(
    settings: Settings, page_settings: CatalogueSettings, *, secure: bool = False
) -> IdentityProvider:
    """The page's staff login (``renkei.identity.staff_login``): the identity module of
    RENKEI_CATALOGUE_IDENTITY, else the users file of RENKEI_STAFF_USERS_FILE; refused without
    one when Kafka is SASL_SSL or with ``secure``; open only on the development stack or with
    open access asked for."""
    return staff_login(
        "data catalogue",
        f"http://{page_settings.bind}:{page_settings.port}/",
        IdentitySettings(),
        secure=secure or settings.kafka_security_protocol == "SASL_SSL",
        module=page_settings.identity,
        open_access=page_settings.open_access,
    )


async def serve(
    settings: Settings, page_settings: CatalogueSettings, identity: IdentityProvider | None = None
) -> None:
    """1. the model (catalogue, views, stages, agreements) and the identity module, before the
    port opens (a bad file or module exits at once); 2. the web server (fails if the port is
    taken); 3. Kafka, the registry and the workers are read per request (cached a few
    seconds): the page works, and says so, while any of them is down."""
    model = load_model(settings)
    if identity is None:
        identity = choose_login(settings, page_settings)
    reader = TopicReader(settings)
    registry = registry_client(settings)
    page = CataloguePage(settings, page_settings, model, identity, reader, registry)
    runner = web.AppRunner(build_app(page), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, page_settings.bind, page_settings.port).start()
        log.info(
            "data catalogue at http://%s:%d/ (%d topics, staff login %s)",
            page_settings.bind,
            page_settings.port,
            len(model.entries),
            type(identity).__name__,
        )
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await reader.close()
        await registry.aclose()


async def serve_until_signal(
    settings: Settings, page_settings: CatalogueSettings, identity: IdentityProvider | None = None
) -> None:
    """:func:`serve` until SIGTERM or SIGINT (a clean stop, exit code 0)."""
    await until_signal(serve(settings, page_settings, identity))
