"""Async client for a Confluent-compatible schema registry (Apicurio's ccompat API here).

Caches what never changes (schemas by id) and what changes only on ``schemas apply`` (the id of
a subject's schema). Concurrent cache misses for the same key share one request, so a burst of
records with a new id costs one round trip and the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from renkei.errors import RegistryError

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
T = TypeVar("T")


class RegistryClient:
    """A small async registry client. Use as ``async with RegistryClient(url) as client``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: tuple[str, str] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            headers={"Accept": _CONTENT_TYPE},
            transport=transport,
            auth=httpx.BasicAuth(*auth) if auth else None,
        )
        self._schemas_by_id: dict[int, dict[str, Any]] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self._inflight: dict[object, asyncio.Future[Any]] = {}

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = await self._http.request(
                method,
                path,
                content=None if body is None else json.dumps(body, ensure_ascii=False),
                headers={"Content-Type": _CONTENT_TYPE} if body is not None else None,
            )
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"schema registry at {self.base_url} not reachable ({type(exc).__name__}); "
                "is the stack up? (renkei stack up)"
            ) from exc
        if response.status_code >= 400:
            try:
                detail = response.json()
            except ValueError:
                detail = {"message": response.text[:300]}
            raise RegistryError(
                f"registry {method} {path}: HTTP {response.status_code}: "
                f"{detail.get('message', detail)}",
                status=response.status_code,
                error_code=detail.get("error_code"),
            )
        return response.json() if response.content else None

    async def _once(self, key: object, fetch: Callable[[], Awaitable[T]]) -> T:
        """Run ``fetch`` once for concurrent callers asking for the same ``key``."""
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await fetch()
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[key]

    async def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        """The parsed JSON schema registered under ``schema_id`` (cached forever)."""
        cached = self._schemas_by_id.get(schema_id)
        if cached is not None:
            return cached

        async def fetch() -> dict[str, Any]:
            body = await self._request("GET", f"/schemas/ids/{schema_id}")
            schema: dict[str, Any] = json.loads(body["schema"])
            self._schemas_by_id[schema_id] = schema
            return schema

        return await self._once(("id", schema_id), fetch)

    def cached_schema(self, schema_id: int) -> dict[str, Any] | None:
        """The schema for ``schema_id`` if already fetched, without any I/O."""
        return self._schemas_by_id.get(schema_id)

    async def register(self, subject: str, schema_text: str) -> int:
        """Register (or find) ``schema_text`` under ``subject``; returns its global id."""
        body = await self._request(
            "POST", f"/subjects/{subject}/versions", {"schema": schema_text, "schemaType": "AVRO"}
        )
        schema_id = int(body["id"])
        self._ids[(subject, schema_text)] = schema_id
        return schema_id

    async def lookup(self, subject: str, schema_text: str) -> int:
        """The id of ``schema_text`` already registered under ``subject`` (cached)."""
        cached = self._ids.get((subject, schema_text))
        if cached is not None:
            return cached

        async def fetch() -> int:
            try:
                body = await self._request(
                    "POST", f"/subjects/{subject}", {"schema": schema_text, "schemaType": "AVRO"}
                )
            except RegistryError as exc:
                if exc.status == 404:
                    raise RegistryError(
                        f"schema for {subject} is not registered (or differs from the "
                        "catalogue); run `renkei schemas apply`",
                        status=404,
                    ) from exc
                raise
            schema_id = int(body["id"])
            self._ids[(subject, schema_text)] = schema_id
            return schema_id

        return await self._once(("subject", subject, schema_text), fetch)

    async def subjects(self) -> list[str]:
        return list(await self._request("GET", "/subjects"))

    async def latest(self, subject: str) -> dict[str, Any] | None:
        """The latest registered version of ``subject`` ({id, version, schema}) or None."""
        try:
            body: dict[str, Any] = await self._request(
                "GET", f"/subjects/{subject}/versions/latest"
            )
        except RegistryError as exc:
            if exc.status == 404:
                return None
            raise
        return body

    async def versions(self, subject: str) -> list[dict[str, Any]]:
        """Every registered version of ``subject``, oldest first ({id, version, schema})."""
        try:
            numbers = await self._request("GET", f"/subjects/{subject}/versions")
        except RegistryError as exc:
            if exc.status == 404:
                return []
            raise
        return [
            await self._request("GET", f"/subjects/{subject}/versions/{n}") for n in sorted(numbers)
        ]

    async def set_compatibility(self, subject: str, level: str) -> None:
        await self._request("PUT", f"/config/{subject}", {"compatibility": level})

    async def get_compatibility(self, subject: str) -> str | None:
        try:
            body = await self._request("GET", f"/config/{subject}")
        except RegistryError as exc:
            if exc.status == 404:
                return None
            raise
        level = body.get("compatibilityLevel") or body.get("compatibility")
        return str(level) if level else None

    async def is_compatible(self, subject: str, schema_text: str) -> tuple[bool, list[str]]:
        """The registry's verdict on ``schema_text`` against the latest version of ``subject``."""
        body = await self._request(
            "POST",
            f"/compatibility/subjects/{subject}/versions/latest?verbose=true",
            {"schema": schema_text, "schemaType": "AVRO"},
        )
        return bool(body.get("is_compatible")), [str(m) for m in body.get("messages", [])]
