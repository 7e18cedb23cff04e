"""An authenticating proxy in front of the schema registry: reads open, writes for the schema
principal only.

Apicurio authenticates through OIDC only (a Keycloak: another JVM on two cores), and its HTTP
API otherwise lets any client delete a subject, after which no record of that topic decodes and
every stage's DLQ breaker trips. So the registry is bound to loopback and clients reach it
through this proxy:

- ``GET``/``HEAD`` (reading schemas by id or subject, what every stage and SDK does) pass, and
  so do the two Confluent-API *queries* sent as ``POST`` that change nothing: ``POST
  <api>/subjects/<subject>`` (is this schema registered? what a publisher asks before its first
  record) and ``POST <api>/compatibility/...`` (would this schema be compatible?);
- every other method (``POST`` a schema, ``PUT`` a compatibility level, ``DELETE`` a subject or
  version) needs HTTP Basic credentials of a *writer* (by default ``renkei-schema``, whose
  password is kept 0600 like the SCRAM passwords); otherwise ``401`` and nothing is forwarded.

Passwords are compared as sha256 digests in constant time; they are never logged. Run it with
``python -m renkei.stack.registry_proxy --listen 127.0.0.1:8081 --upstream http://127.0.0.1:18081
--password-file renkei-schema=/path/renkei-schema.password``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

import httpx
from aiohttp import web

from renkei.errors import ConfigurationError
from renkei.stack.secure import SCHEMA_USER

SCHEMA_PRINCIPAL = SCHEMA_USER
REGISTRY_PROXY = "registry-proxy"
"""Its server name in `renkei stack` (pid file ``run/registry-proxy.json``, status line)."""
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HOP_BY_HOP = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "host",
        "keep-alive",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_QUERY_POSTS = re.compile(r"^/apis/ccompat/v[0-9]+/(subjects/[^/]+/?|compatibility/.*)$")
"""POST paths that only ask (lookup of a schema under a subject, compatibility check). A
subject with an encoded ``/`` stays one segment here (the raw path), as Apicurio reads it."""
log = logging.getLogger(__name__)


def is_read(method: str, raw_path: str) -> bool:
    """Whether a request only reads (needs no credentials): GET/HEAD/OPTIONS, or a query POST."""
    if method in READ_METHODS:
        return True
    if method != "POST" or _QUERY_POSTS.match(raw_path) is None:
        return False
    # no dot segments: a client library normalising ``compatibility/../subjects/x/versions``
    # on the way upstream would turn a query into a registration
    return not any(part in (".", "..") for part in unquote(raw_path).split("/"))


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8")).digest()


def basic_user(header: str | None, writers: Mapping[str, bytes]) -> str | None:
    """The writer named by a ``Basic`` Authorization header with the right password, else
    None (malformed headers, unknown users and wrong passwords alike)."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, sep, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    expected = writers.get(user)
    if not sep or expected is None:
        return None
    return user if hmac.compare_digest(_digest(password), expected) else None


def build_proxy(
    upstream: str, writers: Mapping[str, str], *, transport: httpx.AsyncBaseTransport | None = None
) -> web.Application:
    """The proxy app forwarding to ``upstream`` (the loopback registry); ``writers`` maps
    user → password of those who may change schemas."""
    if not writers:
        raise ConfigurationError("the registry proxy needs at least one writer")
    digests = {user: _digest(password) for user, password in writers.items()}
    client = httpx.AsyncClient(base_url=upstream.rstrip("/"), timeout=30.0, transport=transport)

    async def forward(request: web.Request) -> web.StreamResponse:
        if not is_read(request.method, request.raw_path.partition("?")[0]):
            user = basic_user(request.headers.get("Authorization"), digests)
            if user is None:
                log.warning("registry proxy: refused %s %s", request.method, request.path)
                return web.json_response(
                    {"error_code": 40101, "message": "schema changes need the schema principal"},
                    status=401,
                    headers={"WWW-Authenticate": 'Basic realm="renkei-registry"'},
                )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            answer = await client.request(
                request.method,
                request.raw_path,  # as sent: %2F in a subject stays one segment
                content=await request.read(),
                headers=headers,
            )
        except httpx.HTTPError as exc:
            return web.json_response(
                {"error_code": 50201, "message": f"registry not reachable ({type(exc).__name__})"},
                status=502,
            )
        out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        out.pop("content-encoding", None)
        return web.Response(status=answer.status_code, body=answer.content, headers=out)

    async def close(_app: web.Application) -> None:
        await client.aclose()

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", forward)
    app.on_cleanup.append(close)
    return app


def read_writers(specs: list[str]) -> dict[str, str]:
    """``user=path`` pairs → user → password (the file's stripped text)."""
    writers: dict[str, str] = {}
    for spec in specs:
        user, sep, path = spec.partition("=")
        if not sep or not user:
            raise ConfigurationError(f"--password-file {spec!r}: expected user=path")
        try:
            password = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot read: {exc}") from exc
        if not password:
            raise ConfigurationError(f"{path} is empty")
        writers[user] = password
    return writers


async def _serve(host: str, port: int, upstream: str, writers: dict[str, str]) -> None:
    runner = web.AppRunner(build_proxy(upstream, writers), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info(
        "registry proxy on http://%s:%d -> %s (writers: %s)",
        host,
        port,
        upstream,
        ", ".join(sorted(writers)),
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m renkei.stack.registry_proxy",
        description="Authenticating proxy for the schema registry: GET/HEAD open, schema changes "
        "only with HTTP Basic credentials of a writer (default renkei-schema).",
    )
    parser.add_argument("--listen", default="127.0.0.1:8081", help="host:port to listen on")
    parser.add_argument("--upstream", required=True, help="the loopback registry's base URL")
    parser.add_argument(
        "--password-file",
        action="append",
        default=[],
        metavar="USER=PATH",
        help=f"a writer and its password file (repeatable; e.g. {SCHEMA_PRINCIPAL}=...)",
    )
    # markers that let `renkei stack` recognise its own process (like the JVMs' -Drenkei.*)
    parser.add_argument("--renkei.stack", dest="stack_marker", help=argparse.SUPPRESS)
    parser.add_argument("--renkei.home", dest="home_marker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        writers = read_writers(args.password_file)
        asyncio.run(_serve(host or "127.0.0.1", int(port), args.upstream, writers))
    except ConfigurationError as exc:
        parser.exit(2, f"error: {exc}\n")
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
