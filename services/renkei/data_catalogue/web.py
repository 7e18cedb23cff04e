"""The web side: the page (static HTML + JS rendering ``/api/catalogue`` and ``/api/live``),
the JSON behind it, the DCAT export, the schemas, health.

Read-only: GET routes only. Every route but ``/health/*`` goes through the staff login
(``renkei.identity``). The answers carry a strict Content-Security-Policy (only this server's own
script and style; the script writes text and SVG elements, never HTML strings).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from renkei.contracts.names import TopicNames
from renkei.data_catalogue.dcat import dcat_document
from renkei.data_catalogue.entries import CatalogueModel
from renkei.data_catalogue.lineage import build_graph
from renkei.data_catalogue.live import LiveFigures, TopicReader, gather_live
from renkei.data_catalogue.settings import CatalogueSettings
from renkei.data_catalogue.versions import SubjectHistory, subject_history
from renkei.identity import STAFF, IdentityProvider, login_middleware
from renkei.identity.web import add_page_files, security_headers
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings

OPEN_PATHS = ("/health/",)
JSONLD = "application/ld+json"


@dataclass
class _Cached:
    value: Any = None
    at: float = -1e18
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class CataloguePage:
    """What the handlers read: the model (built once at start) and cached live reads."""

    settings: Settings
    page: CatalogueSettings
    model: CatalogueModel
    identity: IdentityProvider
    reader: TopicReader
    registry: RegistryClient
    clock: Callable[[], float] = time.monotonic
    _live: _Cached = field(default_factory=_Cached)
    _versions: _Cached = field(default_factory=_Cached)

    @property
    def names(self) -> TopicNames:
        return TopicNames(self.settings.topic_prefix)

    async def _cached(self, cache: _Cached, load: Callable[[], Awaitable[Any]]) -> Any:
        async with cache.lock:
            if self.clock() - cache.at >= self.page.live_cache_seconds:
                cache.value = await load()
                cache.at = self.clock()
            return cache.value

    async def live(self) -> LiveFigures:
        topics = list(self.model.entries)

        async def load() -> LiveFigures:
            return await gather_live(self.settings, self.reader, topics, self.page.window_seconds)

        figures: LiveFigures = await self._cached(self._live, load)
        return figures

    async def versions(self) -> dict[str, SubjectHistory]:
        async def load() -> dict[str, SubjectHistory]:
            entries = list(self.model.entries.values())
            found = await asyncio.gather(
                *(
                    subject_history(self.registry, self.names.subject(e.topic), e.spec.schema)
                    for e in entries
                )
            )
            return {e.topic: h for e, h in zip(entries, found, strict=True)}

        histories: dict[str, SubjectHistory] = await self._cached(self._versions, load)
        return histories

    async def catalogue(self) -> dict[str, Any]:
        """The ``/api/catalogue`` body."""
        histories = await self.versions()
        return {
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "refresh_seconds": self.page.refresh_seconds,
            "topic_prefix": self.settings.topic_prefix,
            "registry": self.settings.schema_registry_url,
            "topics": [
                {
                    **entry.as_json(),
                    "kafka_topic": self.names.topic(entry.topic),
                    "registry": histories[entry.topic].as_json(),
                }
                for entry in self.model.ordered()
            ],
            "stages": [vars(s) for s in self.model.stages],
            "graph": build_graph(self.model).as_json(),
        }

    async def dcat(self) -> dict[str, Any]:
        return dcat_document(
            self.model,
            base_url=self.page.public_url(),
            publisher=self.page.publisher,
            histories=await self.versions(),
            live=await self.live(),
        )


def _json(body: Any, content_type: str = "application/json") -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), content_type=content_type)


def build_app(page: CataloguePage) -> web.Application:
    """The aiohttp application (routes in docs/catalogue.md)."""

    async def catalogue(_request: web.Request) -> web.Response:
        return _json(await page.catalogue())

    async def live(_request: web.Request) -> web.Response:
        return _json((await page.live()).as_json())

    async def schema(request: web.Request) -> web.Response:
        entry = page.model.entries.get(request.match_info["topic"])
        if entry is None:
            raise web.HTTPNotFound(text="no such topic in the catalogue")
        return _json(entry.spec.schema)

    async def dcat(_request: web.Request) -> web.Response:
        return _json(await page.dcat(), JSONLD)

    async def whoami(request: web.Request) -> web.Response:
        return _json(request[STAFF].as_json())

    async def alive(_request: web.Request) -> web.Response:
        return web.json_response({"live": True})

    staff_only = login_middleware(page.identity, open_prefixes=OPEN_PATHS)
    app = web.Application(middlewares=[security_headers, staff_only])
    add_page_files(app, "renkei.data_catalogue")
    app.router.add_get("/api/catalogue", catalogue)
    app.router.add_get("/api/live", live)
    app.router.add_get("/api/schema/{topic}", schema)
    app.router.add_get("/api/whoami", whoami)
    app.router.add_get("/catalogue.jsonld", dcat)
    app.router.add_get("/health/live", alive)
    app.router.add_get("/health/ready", alive)
    return app
