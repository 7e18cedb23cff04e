"""The staff login policy (renkei.identity, issue 14): one module for the staff view and the
data catalogue. A users file means login; a secure deployment without one refuses to start;
open access only on the development stack or on purpose, said loudly. The catalogue refuses an
unauthenticated request and a wrong password and serves the right one, naming the user; the
staff view's view.served record names the signed-in user (and a client address, never a
pseudo-user, under open access)."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from renkei.audit import AuditLog
from renkei.cli import cli
from renkei.data_catalogue.entries import build_model
from renkei.data_catalogue.settings import CatalogueSettings
from renkei.data_catalogue.web import CataloguePage, build_app
from renkei.errors import ConfigurationError
from renkei.identity import (
    FileStaffLogin,
    IdentitySettings,
    OpenAccess,
    hash_password,
    staff_login,
)
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from staff_view import __main__ as staff_view_main
from staff_view.served import audit_served
from staff_view.web import build_app as staff_view_app
from tests.contract_lists import REPO
from tests.data_catalogue.test_web import StubReader, _registry
from tests.staff_view.test_web import _view

PASSWORD = "correct horse battery"
NO_ENV = IdentitySettings.model_construct(users_file=None, require_login=False, open_access=False)


def _auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "staff-users.yaml"
    users = [
        {
            "id": "sato.m",
            "display_name": "佐藤 (企画課)",
            "password_hash": hash_password(PASSWORD),
            "departments": ["企画課"],
        }
    ]
    path.write_text(yaml.safe_dump({"users": users}, allow_unicode=True), encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_users_file_means_login(users_file: Path) -> None:
    provider = staff_login("page", "here", NO_ENV, secure=True, users_file=users_file)
    assert isinstance(provider, FileStaffLogin) and set(provider.users) == {"sato.m"}
    shared = IdentitySettings.model_construct(
        users_file=users_file, require_login=False, open_access=False
    )
    assert isinstance(staff_login("page", "here", shared, secure=False), FileStaffLogin)


@pytest.mark.parametrize(
    "how",
    [
        {"secure": True},
        {"secure": False, "env": {"require_login": True}},
    ],
)
def test_no_login_in_a_secure_deployment_refuses_to_start(how: dict[str, object]) -> None:
    env = NO_ENV.model_copy(update=how.get("env", {}))
    with pytest.raises(ConfigurationError, match="refusing to start without a staff login"):
        staff_login("data catalogue", "here", env, secure=bool(how["secure"]))


def test_an_open_identity_module_is_refused_in_a_secure_deployment() -> None:
    with pytest.raises(ConfigurationError, match="has no login"):
        staff_login("page", "here", NO_ENV, secure=True, module="renkei.identity:open_access")


def test_open_access_is_said_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="renkei.identity"):
        dev = staff_login("staff view", "http://0.0.0.0:8090/", NO_ENV, secure=False)
        forced = staff_login("staff view", "x", NO_ENV, secure=True, open_access=True)
    assert isinstance(dev, OpenAccess) and isinstance(forced, OpenAccess)
    banners = [r.getMessage() for r in caplog.records if "OPEN ACCESS" in r.getMessage()]
    assert len(banners) == 2 and "http://0.0.0.0:8090/" in banners[0]
    assert "--open-access" in banners[1]


def test_open_access_and_a_login_together_is_an_error(users_file: Path) -> None:
    with pytest.raises(ConfigurationError, match="choose one"):
        staff_login("page", "x", NO_ENV, secure=False, users_file=users_file, open_access=True)


@pytest.fixture
async def catalogue_client(
    settings: Settings, catalogue: Catalogue, users_file: Path
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    quiet = settings.model_copy(update={"worker_web_port_base": 1})
    model = build_model(catalogue, REPO / "deploy" / "agreements")
    login = FileStaffLogin.from_file(users_file)
    page = CataloguePage(
        quiet, CatalogueSettings(), model, login, StubReader(quiet), _registry(catalogue)
    )
    client = TestClient(TestServer(build_app(page)))
    await client.start_server()
    yield client
    await client.close()


async def test_the_catalogue_needs_a_login(
    catalogue_client: TestClient[web.Request, web.Application],
) -> None:
    for headers in (
        {},
        _auth("sato.m", "wrong"),
        _auth("nobody", PASSWORD),
        {"Authorization": "Basic %%%"},
    ):
        for path in ("/", "/api/catalogue", "/api/live", "/catalogue.jsonld", "/api/whoami"):
            refused = await catalogue_client.get(path, headers=headers)
            assert refused.status == 401, (path, headers)
            assert refused.headers["WWW-Authenticate"].startswith("Basic ")
            assert "no-store" in refused.headers["Cache-Control"]
            assert "registry.resident.events" not in await refused.text()
    assert (await catalogue_client.get("/health/live")).status == 200
    good = _auth("sato.m", PASSWORD)
    whoami = await (await catalogue_client.get("/api/whoami", headers=good)).json()
    assert whoami == {
        "id": "sato.m",
        "display_name": "佐藤 (企画課)",
        "departments": ["企画課"],
        "roles": ["viewer"],
        "signed_in": True,
    }
    answer = await catalogue_client.get("/api/catalogue", headers=good)
    assert answer.status == 200 and "registry.resident.events" in await answer.text()


async def test_open_access_names_the_client_not_a_user(
    catalogue: Catalogue, settings: Settings, tmp_path: Path
) -> None:
    view = _view(catalogue)
    assert view.served is not None
    async with TestClient(TestServer(staff_view_app(view, OpenAccess()))) as client:
        assert (await client.get("/api/state")).status == 200
    audit = AuditLog.open(settings, path=tmp_path / "audit.jsonl", produce=False)
    await audit_served(view.served, audit, "app:staff_view (app-staff-view)")
    await audit.aclose()
    [record] = audit.file.records()
    assert record["details"]["users"] == ["127.0.0.1"]


def test_the_staff_view_refuses_to_start_without_a_login_when_secure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "RENKEI_STAFF_USERS_FILE",
        "RENKEI_STAFF_VIEW_USERS_FILE",
        "RENKEI_STAFF_OPEN_ACCESS",
    ):
        monkeypatch.delenv(name, raising=False)
    assert staff_view_main.main(["--secure", "--port", "1"]) == 1
    assert "refusing to start without a staff login" in capsys.readouterr().err
    monkeypatch.setenv("RENKEI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    assert staff_view_main.main(["--port", "1"]) == 1
    assert "RENKEI_STAFF_USERS_FILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--secure"], {}),
        ([], {"RENKEI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}),
        ([], {"RENKEI_STAFF_REQUIRE_LOGIN": "true"}),
    ],
)
def test_the_catalogue_refuses_to_start_without_a_login_when_secure(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "RENKEI_STAFF_USERS_FILE",
        "RENKEI_CATALOGUE_IDENTITY",
        "RENKEI_STAFF_OPEN_ACCESS",
    ):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["catalogue", "serve", "--port", "1", *args], env=env)
    assert result.exit_code == 1
    message = str(result.exception or result.output)
    assert "refusing to start without a staff login" in message


def test_the_catalogue_refuses_a_bad_users_file(users_file: Path) -> None:
    users_file.chmod(0o644)
    result = CliRunner().invoke(
        cli, ["catalogue", "serve", "--port", "1"], env={"RENKEI_STAFF_USERS_FILE": str(users_file)}
    )
    assert result.exit_code == 1
    assert "chmod 600" in str(result.exception or result.output)


def test_identity_hash_and_check(users_file: Path) -> None:
    hashed = CliRunner().invoke(cli, ["identity", "hash"], input="s3cret pass\ns3cret pass\n")
    assert hashed.exit_code == 0, hashed.output
    line = hashed.output.strip().splitlines()[-1]
    assert line.startswith("scrypt$") and "s3cret" not in hashed.output
    checked = CliRunner().invoke(cli, ["identity", "check", str(users_file)])
    assert checked.exit_code == 0 and "sato.m" in checked.output and "1 users, ok" in checked.output
