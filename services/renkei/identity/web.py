"""The aiohttp side of the staff pages (the staff view, the catalogue): the login middleware,
the security headers and the static page files every staff page serves the same way."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from renkei.identity.model import STAFF, IdentityProvider

REALM = "renkei-staff"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATIC_TYPES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
"""The files of a staff page (its package's ``static/`` folder) and their content types."""
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""On every response of a staff page, errors included: nothing cached (personal data), no
script, style or frame from elsewhere."""


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


def add_page_files(app: web.Application, package: str) -> None:
    """Serve ``package``'s ``static/`` files: ``index.html`` at ``/``, the others (only those
    of :data:`STATIC_TYPES`) at ``/static/<name>``."""
    files = {
        name: resources.files(package).joinpath("static", name).read_bytes()
        for name in STATIC_TYPES
    }

    async def index(_request: web.Request) -> web.Response:
        return web.Response(body=files["index.html"], content_type="text/html", charset="utf-8")

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in files or name == "index.html":
            raise web.HTTPNotFound()
        return web.Response(body=files[name], content_type=STATIC_TYPES[name], charset="utf-8")

    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)


async def until_signal(serve: Awaitable[None]) -> None:
    """Await ``serve`` until SIGTERM or SIGINT cancels it (a clean stop, exit code 0)."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serve


def login_middleware(
    provider: IdentityProvider, *, open_prefixes: tuple[str, ...] = ("/health/",)
) -> Any:
    """Every request but ``open_prefixes`` needs an identity from ``provider``: else a browser
    is sent to the provider's ``login_url`` (OIDC), or 401 asks for HTTP Basic credentials.
    The identity is put on ``request[STAFF]``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(open_prefixes):
            return await handler(request)
        identity = await provider.identify(request)
        if identity is None:
            if provider.login_url and "text/html" in request.headers.get("Accept", ""):
                raise web.HTTPFound(provider.login_url)
            return web.Response(
                status=401,
                text="staff login required / 職員ログインが必要です",
                headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
            )
        request[STAFF] = identity
        return await handler(request)

    return middleware
