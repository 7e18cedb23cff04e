"""The registry proxy in front of the real registry (the plain stack's): anonymous reads pass,
schema changes without the schema principal's credentials are refused and never reach the
registry, the principal's go through (issue 14)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from renkei.stack.registry_proxy import SCHEMA_PRINCIPAL, basic_user, build_proxy

PASSWORD = "schema-pa55-" + uuid.uuid4().hex
SCHEMA = json.dumps({"type": "record", "name": "T", "fields": [{"name": "a", "type": "int"}]})
CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", **CT}


def test_basic_user_accepts_only_a_writer_with_its_password() -> None:
    writers = {SCHEMA_PRINCIPAL: hashlib.sha256(PASSWORD.encode()).digest()}
    good = _basic(SCHEMA_PRINCIPAL, PASSWORD)["Authorization"]
    assert basic_user(good, writers) == SCHEMA_PRINCIPAL
    assert basic_user(_basic(SCHEMA_PRINCIPAL, "wrong")["Authorization"], writers) is None
    assert basic_user(_basic("app-x", PASSWORD)["Authorization"], writers) is None
    assert basic_user("Basic !!!", writers) is None and basic_user(None, writers) is None


@pytest.mark.kafka
async def test_the_proxy_refuses_anonymous_writes_to_the_real_registry(
    live_stack: Settings,
) -> None:
    parts = urlsplit(live_stack.schema_registry_url)
    upstream = f"{parts.scheme}://{parts.netloc}"
    api = parts.path.rstrip("/")
    subject = f"test-proxy-{uuid.uuid4().hex[:10]}-value"
    body = json.dumps({"schema": SCHEMA})
    app = build_proxy(upstream, {SCHEMA_PRINCIPAL: PASSWORD})
    async with TestClient(TestServer(app)) as proxy:
        assert (await proxy.get(f"{api}/subjects")).status == 200  # reads are open
        for headers in (CT, _basic(SCHEMA_PRINCIPAL, "wrong"), _basic("app-x", PASSWORD)):
            refused = await proxy.post(
                f"{api}/subjects/{subject}/versions", data=body, headers=headers
            )
            assert refused.status == 401
            assert "WWW-Authenticate" in refused.headers
        async with RegistryClient(live_stack.schema_registry_url) as direct:
            assert subject not in await direct.subjects()  # nothing reached the registry
        accepted = await proxy.post(
            f"{api}/subjects/{subject}/versions",
            data=body,
            headers=_basic(SCHEMA_PRINCIPAL, PASSWORD),
        )
        assert accepted.status == 200, await accepted.text()
        assert "id" in await accepted.json()
        # a delete (what silenced every stage) is a write too
        assert (await proxy.delete(f"{api}/subjects/{subject}")).status == 401
        read = await proxy.get(f"{api}/subjects/{subject}/versions/latest")
        assert read.status == 200 and (await read.json())["subject"] == subject
        cleaned = await proxy.delete(
            f"{api}/subjects/{subject}", headers=_basic(SCHEMA_PRINCIPAL, PASSWORD)
        )
        assert cleaned.status == 200
        permanent = await proxy.delete(
            f"{api}/subjects/{subject}?permanent=true", headers=_basic(SCHEMA_PRINCIPAL, PASSWORD)
        )
        assert permanent.status in (200, 404)
