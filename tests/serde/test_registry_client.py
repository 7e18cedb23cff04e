"""RegistryClient behaviour that needs no server: caching, single flight, error wrapping.
(The client talks to the real Apicurio Registry in the integration tests.)"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from renkei.errors import RegistryError
from renkei.serde.registry import RegistryClient

SCHEMA = {"type": "record", "name": "A", "fields": [{"name": "a", "type": "string"}]}


def _client(handler) -> tuple[RegistryClient, list[str]]:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def counting(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        await asyncio.sleep(0.01)  # let concurrent callers pile up
        return handler(request)

    transport = httpx.MockTransport(counting)
    return RegistryClient("http://registry.test/apis/ccompat/v7", transport=transport), calls


async def test_concurrent_misses_share_one_request_and_hits_need_none() -> None:
    client, calls = _client(lambda r: httpx.Response(200, json={"schema": json.dumps(SCHEMA)}))
    results = await asyncio.gather(*(client.schema_by_id(7) for _ in range(50)))
    assert all(r == SCHEMA for r in results)
    assert calls == ["GET /apis/ccompat/v7/schemas/ids/7"]
    assert client.cached_schema(7) == SCHEMA
    await client.schema_by_id(7)
    assert len(calls) == 1
    await client.aclose()


async def test_a_failed_fetch_is_not_cached_and_every_waiter_sees_the_error() -> None:
    answers = iter(
        [
            httpx.Response(500, json={"message": "boom"}),
            httpx.Response(200, json={"schema": json.dumps(SCHEMA)}),
        ]
    )
    client, calls = _client(lambda r: next(answers))
    outcomes = await asyncio.gather(
        *(client.schema_by_id(3) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, RegistryError) and o.status == 500 for o in outcomes)
    assert await client.schema_by_id(3) == SCHEMA
    assert len(calls) == 2
    await client.aclose()


async def test_lookup_of_an_unregistered_schema_says_to_apply() -> None:
    client, _ = _client(lambda r: httpx.Response(404, json={"error_code": 40403, "message": "x"}))
    with pytest.raises(RegistryError, match="renkei schemas apply"):
        await client.lookup("t-value", json.dumps(SCHEMA))
    await client.aclose()


async def test_an_unreachable_registry_is_a_registry_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, _ = _client(refuse)
    with pytest.raises(RegistryError, match="not reachable"):
        await client.subjects()
    await client.aclose()
