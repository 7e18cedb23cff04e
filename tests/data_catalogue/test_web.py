"""Routes, headers and the identity seam of the catalogue page (no server of the stack: the
registry answers through a mock transport, Kafka through a stub reader)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from renkei.contracts.names import TopicNames
from renkei.data_catalogue.entries import CatalogueModel, build_model
from renkei.data_catalogue.live import TopicFigures, TopicReader
from renkei.data_catalogue.settings import CatalogueSettings
from renkei.data_catalogue.web import CataloguePage, build_app
from renkei.errors import ConfigurationError
from renkei.identity import OpenAccess, StaffIdentity, load_identity
from renkei.identity.web import SECURITY_HEADERS
from renkei.schemas.catalogue import Catalogue
from renkei.serde.registry import RegistryClient
from renkei.settings import Settings
from tests.contract_lists import REPO


class StubReader(TopicReader):
    """Kafka's answer for every topic: 5 records, the newest at a fixed time."""

    async def read(
        self, names: TopicNames, topics: Iterable[str], since_ms: int
    ) -> dict[str, TopicFigures]:
        return {
            t: TopicFigures(
                t, exists=True, records=5, recent_records=2, latest_ms=1_700_000_000_000
            )
            for t in topics
        }


def _registry(catalogue: Catalogue) -> RegistryClient:
    schema = json.dumps(catalogue.get("registry.resident.events").schema)

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/subjects/registry.resident.events-value/versions":
            return httpx.Response(200, json=[1])
        if path == "/subjects/registry.resident.events-value/versions/1":
            return httpx.Response(200, json={"version": 1, "id": 41, "schema": schema})
        if path.startswith("/config/"):
            return httpx.Response(200, json={"compatibilityLevel": "FULL_TRANSITIVE"})
        return httpx.Response(404, json={"error_code": 40401, "message": "not found"})

    return RegistryClient("http://registry.test", transport=httpx.MockTransport(answer))


class Refuse:
    login_url = "https://login.example.lg.jp/"

    async def identify(self, request: web.Request) -> StaffIdentity | None:
        return None


def refuse() -> Refuse:
    return Refuse()


@pytest.fixture(scope="module")
def model(catalogue: Catalogue) -> CatalogueModel:
    return build_model(catalogue, REPO / "deploy" / "agreements")


async def _client(
    settings: Settings, catalogue: Catalogue, model: CatalogueModel, identity: Any
) -> TestClient[web.Request, web.Application]:
    # no worker answers on these ports: the page must say so, not fail
    quiet = settings.model_copy(update={"worker_web_port_base": 1})
    page = CataloguePage(
        quiet, CatalogueSettings(), model, identity, StubReader(quiet), _registry(catalogue)
    )
    client = TestClient(TestServer(build_app(page)))
    await client.start_server()
    return client


@pytest.fixture
async def client(
    settings: Settings, catalogue: Catalogue, model: CatalogueModel
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    client = await _client(settings, catalogue, model, OpenAccess())
    yield client
    await client.close()


async def test_page_and_static_files(client: TestClient[web.Request, web.Application]) -> None:
    page = await client.get("/")
    assert page.status == 200 and "データカタログ" in await page.text()
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        response = await client.get(f"/static/{name}")
        assert response.status == 200 and response.content_type == kind
    assert (await client.get("/static/secret.txt")).status == 404
    for header, value in SECURITY_HEADERS.items():
        assert page.headers[header] == value
    assert (await client.post("/api/catalogue")).status == 405


async def test_catalogue_json(
    client: TestClient[web.Request, web.Application], model: CatalogueModel
) -> None:
    body = await (await client.get("/api/catalogue")).json()
    assert [t["topic"] for t in body["topics"]] == [e.topic for e in model.ordered()]
    [events] = [t for t in body["topics"] if t["topic"] == "registry.resident.events"]
    assert events["registry"]["versions"] == [{"version": 1, "id": 41, "changes": []}]
    assert events["registry"]["compatibility"] == "FULL_TRANSITIVE"
    assert events["registry"]["matches_catalogue"] is True
    [region] = [t for t in body["topics"] if t["topic"] == "unified.region"]
    assert region["registry"]["versions"] == [] and region["registry"]["error"] is None
    assert {n["id"] for n in body["graph"]["nodes"]} >= {"stage:views", "app:staff-view"}


async def test_live_json_without_workers(client: TestClient[web.Request, web.Application]) -> None:
    body = await (await client.get("/api/live")).json()
    assert body["kafka_error"] is None
    assert not any(stage["up"] for stage in body["stages"])
    figure = body["topics"]["registry.resident.events"]
    assert (figure["records"], figure["recent_records"], figure["dlq_rate"]) == (5, 2, None)


async def test_schema_and_dcat(client: TestClient[web.Request, web.Application]) -> None:
    schema = await (await client.get("/api/schema/unified.region")).json()
    assert schema["name"] == "RegionAggregate" or schema["type"] == "record"
    assert (await client.get("/api/schema/no.such.topic")).status == 404
    response = await client.get("/catalogue.jsonld")
    assert response.content_type == "application/ld+json"
    document = json.loads(await response.text())
    assert document["@type"] == "dcat:Catalog"
    [events] = [
        d for d in document["dcat:dataset"] if d["dct:identifier"] == "registry.resident.events"
    ]
    assert events["dcat:version"] == "1"
    assert events["dct:modified"]["@value"] == "2023-11-14T22:13:20+00:00"


async def test_whoami_without_a_login(client: TestClient[web.Request, web.Application]) -> None:
    body = await (await client.get("/api/whoami")).json()
    assert body["signed_in"] is False and body["id"] == "open-access"


async def test_an_identity_module_that_refuses(
    settings: Settings, catalogue: Catalogue, model: CatalogueModel
) -> None:
    provider = load_identity("tests.data_catalogue.test_web:refuse")
    client = await _client(settings, catalogue, model, provider)
    try:
        assert (await client.get("/api/catalogue")).status == 401
        page = await client.get("/", headers={"Accept": "text/html"}, allow_redirects=False)
        assert page.status == 302 and page.headers["Location"] == Refuse.login_url
        assert (await client.get("/health/live")).status == 200
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no-colon", "package.module:factory"),
        ("no.such.module:factory", "cannot be imported"),
        ("renkei.identity:REALM", "not callable"),
        ("renkei.identity:StaffIdentity", "failed"),
        ("builtins:dict", "no async identify"),
    ],
)
def test_a_bad_identity_module_is_a_clear_error(target: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_identity(target)
