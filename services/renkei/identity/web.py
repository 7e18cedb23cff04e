"""The aiohttp side of the staff login: one middleware for every staff page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from renkei.identity.model import STAFF, IdentityProvider

REALM = "renkei-staff"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
