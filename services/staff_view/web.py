"""The web side: a page (static HTML + JS that renders ``/api/state``), the JSON, health.

Read-only: GET routes only. What ``/api/state`` serves of the lists is counted for the
``view.served`` audit record (``served.py``). The page shows personal data of the
evacuation-support lists, so every answer says ``Cache-Control: no-store``, and a strict
Content-Security-Policy allows only this server's own script and style (no inline code; the
script writes text, never HTML).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from renkei.identity import STAFF, IdentityProvider, login_middleware
from renkei.identity.web import add_page_files, security_headers
from staff_view.follow import Source
from staff_view.places import RegionNames
from staff_view.served import ServedWindow
from staff_view.settings import StaffViewSettings
from staff_view.snapshot import snapshot
from staff_view.state import ViewState

JST = ZoneInfo("Asia/Tokyo")


@dataclass
class StaffView:
    """What the handlers read: the folded state and the sources feeding it; ``served`` counts
    the list data handed out, for the audit log."""

    settings: StaffViewSettings
    state: ViewState
    sources: list[Source]
    served: ServedWindow | None = None
    names: RegionNames = field(default_factory=RegionNames)
    clock: Callable[[], float] = time.monotonic

    def loaded(self) -> bool:
        now = self.clock()
        return all(source.catch_up.loaded(now) for source in self.sources)

    def document(self) -> dict[str, Any]:
        """The ``/api/state`` body: the snapshot plus loading status and page settings."""
        now = self.clock()
        return {
            "title": self.settings.title,
            "generated_at": dt.datetime.now(JST).isoformat(timespec="seconds"),
            "refresh_seconds": self.settings.refresh_seconds,
            "loading": not self.loaded(),
            "sources": [source.status(now) for source in self.sources],
            **snapshot(self.state, self.names),
        }


def build_app(view: StaffView, login: IdentityProvider | None = None) -> web.Application:
    """The aiohttp application: ``/``, ``/static/*``, ``/api/state``, ``/health/*``.

    Every path but ``/health/*`` goes through ``login`` (``renkei.identity.staff_login``
    chooses it): a signed-in staff member is named in the ``view.served`` record; open access
    (no login, development) names the client address instead."""

    async def state(request: web.Request) -> web.Response:
        document = view.document()
        if view.served is not None:
            staff = request.get(STAFF)
            named = staff.id if staff is not None and staff.signed_in else None
            view.served.add(document, named or request.remote or "unknown")
        body = json.dumps(document, ensure_ascii=False)
        return web.Response(text=body, content_type="application/json")

    async def live(_request: web.Request) -> web.Response:
        return web.json_response({"live": True})

    async def ready(_request: web.Request) -> web.Response:
        loaded = view.loaded()
        return web.json_response({"ready": loaded}, status=200 if loaded else 503)

    middlewares: list[Any] = [security_headers]
    if login is not None:
        middlewares.append(login_middleware(login))
    app = web.Application(middlewares=middlewares)
    add_page_files(app, "staff_view")
    app.router.add_get("/api/state", state)
    app.router.add_get("/health/live", live)
    app.router.add_get("/health/ready", ready)
    return app
