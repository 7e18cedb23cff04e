"""The registry proxy in front of the real registry (the plain stack's): anonymous reads pass,
schema changes without the schema principal's credentials are refused and never reach the
registry, the principal's go through (issue 14)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from renkei.errors import ConfigurationError, RegistryError
from renkei.serde.registry import RegistryClient, registry_credentials
from renkei.settings import Settings
from renkei.stack.registry_proxy import SCHEMA_PRINCIPAL, basic_user, build_proxy, is_read

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


@pytest.mark.parametrize(
    ("method", "path", "read"),
    [
        ("GET", "/apis/ccompat/v7/subjects", True),
        ("POST", "/apis/ccompat/v7/subjects/unified.resident-value", True),  # lookup
        ("POST", "/apis/ccompat/v7/compatibility/subjects/x-value/versions/latest", True),
        ("POST", "/apis/ccompat/v7/subjects/x-value/versions", False),  # register
        ("POST", "/apis/ccompat/v7/subjects/x%2Fversions", True),  # one segment: a lookup
        ("POST", "/apis/ccompat/v7/compatibility/../subjects/x-value/versions", False),
        ("POST", "/apis/ccompat/v7/compatibility/%2e%2e/%2E%2E/subjects/x/versions", False),
        ("POST", "/apis/registry/v3/groups/default/artifacts", False),
        ("PUT", "/apis/ccompat/v7/config/x-value", False),
        ("DELETE", "/apis/ccompat/v7/subjects/x-value", False),
    ],
)
def test_only_reads_and_query_posts_pass_without_credentials(
    method: str, path: str, read: bool
) -> None:
    assert is_read(method, path) is read


def test_registry_credentials_come_from_the_settings_and_stay_secret(tmp_path: Path) -> None:
    assert registry_credentials(Settings()) is None
    secret = tmp_path / "renkei-schema.password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    settings = Settings(
        schema_registry_username=SCHEMA_PRINCIPAL, schema_registry_password_file=secret
    )
    assert registry_credentials(settings) == (SCHEMA_PRINCIPAL, PASSWORD)
    assert PASSWORD not in repr(Settings(schema_registry_password=PASSWORD))
    with pytest.raises(ConfigurationError, match="go together"):
        registry_credentials(Settings(schema_registry_username=SCHEMA_PRINCIPAL))
    with pytest.raises(ConfigurationError, match="cannot read"):
        registry_credentials(
            Settings(
                schema_registry_username=SCHEMA_PRINCIPAL,
                schema_registry_password_file=tmp_path / "missing",
            )
        )


async def test_the_client_sends_basic_credentials_and_explains_a_refusal() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(401, json={"error_code": 40101, "message": "no"})

    transport = httpx.MockTransport(answer)
    async with RegistryClient("http://r.test", transport=transport) as anonymous:
        with pytest.raises(RegistryError, match="RENKEI_SCHEMA_REGISTRY_USERNAME"):
            await anonymous.register("s-value", SCHEMA)
    async with RegistryClient(
        "http://r.test", transport=transport, auth=(SCHEMA_PRINCIPAL, PASSWORD)
    ) as writer:
        with pytest.raises(RegistryError) as refused:
            await writer.register("s-value", SCHEMA)
    assert PASSWORD not in str(refused.value) and f"sent as {SCHEMA_PRINCIPAL}" in str(
        refused.value
    )
    assert seen[0] is None and seen[1] == _basic(SCHEMA_PRINCIPAL, PASSWORD)["Authorization"]
