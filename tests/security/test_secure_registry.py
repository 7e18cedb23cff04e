"""The secure stack's registry: Apicurio bound to loopback behind the authenticating proxy that
`renkei stack up --secure` starts on the registry URL (issue 14). Anonymous schema changes are
refused and never reach the registry; the schema principal's go through; reads (and the
publishers' lookup query) stay open."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from click.testing import CliRunner

from renkei.cli import cli
from renkei.errors import RegistryError
from renkei.serde.registry import RegistryClient, registry_client
from renkei.stack.endpoints import StackEndpoints
from renkei.stack.registry_proxy import REGISTRY_PROXY
from renkei.stack.status import stack_status
from tests.security.conftest import SecureStack

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]
SCHEMA = json.dumps({"type": "record", "name": "P", "fields": [{"name": "a", "type": "int"}]})
CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def test_the_registry_refuses_anonymous_writes_and_accepts_the_schema_principal(
    secure_stack: SecureStack,
) -> None:
    admin = secure_stack.admin
    url = admin.schema_registry_url
    endpoints = StackEndpoints.from_settings(admin)
    assert endpoints.registry_bind_port == endpoints.registry_port + 1
    subject = f"test-secure-registry-{uuid.uuid4().hex[:10]}-value"
    body = json.dumps({"schema": SCHEMA})
    wrong = httpx.BasicAuth("renkei-schema", "not-the-password")
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        assert anonymous.get("/subjects").status_code == 200  # reads are open
        for auth in (None, wrong, httpx.BasicAuth("renkei-admin", "x")):
            refused = anonymous.post(
                f"/subjects/{subject}/versions", content=body, headers=CT, auth=auth
            )
            assert refused.status_code == 401, refused.text
        # a query POST that smuggles a registration through dot segments is a write
        sneaky = anonymous.post(
            f"/compatibility/%2e%2e/%2e%2e/subjects/{subject}/versions", content=body, headers=CT
        )
        assert sneaky.status_code == 401
        assert subject not in anonymous.get("/subjects").json()

    async def as_principal() -> None:
        async with registry_client(admin) as writer, RegistryClient(url) as reader:
            schema_id = await writer.register(subject, SCHEMA)
            # anonymous: read by id and by subject, and the lookup a publisher does (a POST)
            assert (await reader.latest(subject) or {}).get("id") == schema_id
            assert await reader.lookup(subject, SCHEMA) == schema_id
            assert await reader.schema_by_id(schema_id)
            with pytest.raises(RegistryError, match="RENKEI_SCHEMA_REGISTRY_USERNAME") as refused:
                await reader.set_compatibility(subject, "NONE")
            assert refused.value.status == 401
            await writer.set_compatibility(subject, "BACKWARD")

    asyncio.run(as_principal())
    with httpx.Client(base_url=url, timeout=30) as anonymous:
        assert anonymous.delete(f"/subjects/{subject}").status_code == 401
        assert anonymous.get(f"/subjects/{subject}/versions/latest").status_code == 200
    password = admin.schema_registry_password_file
    assert password is not None
    auth = httpx.BasicAuth("renkei-schema", password.read_text(encoding="utf-8").strip())
    with httpx.Client(base_url=url, timeout=30, auth=auth) as writer:
        assert writer.delete(f"/subjects/{subject}").status_code == 200
        writer.delete(f"/subjects/{subject}", params={"permanent": "true"})
    status = stack_status(admin)
    assert status.server(REGISTRY_PROXY).up, status


def test_schemas_apply_needs_the_schema_principal(secure_stack: SecureStack) -> None:
    """`renkei schemas apply` as the platform (with the registry credentials) works; without
    them, a change is refused with a message naming the settings, exit 1."""
    env = secure_stack.environment
    ok = CliRunner().invoke(cli, ["schemas", "apply"], env=env)
    assert ok.exit_code == 0, ok.output
    anonymous: dict[str, str | None] = {
        **env,
        "RENKEI_SCHEMA_REGISTRY_USERNAME": None,
        "RENKEI_SCHEMA_REGISTRY_PASSWORD_FILE": None,
    }
    refused = CliRunner().invoke(cli, ["schemas", "apply"], env=anonymous)
    assert refused.exit_code != 0, refused.output
    assert "401" in refused.output and "RENKEI_SCHEMA_REGISTRY_USERNAME" in refused.output
