"""Staff login (issue 14): the staff view's pages and /api/state need a signed-in user from the
users file; the user is named in the view.served record; passwords are scrypt-hashed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from renkei.audit import AuditLog
from renkei.errors import ConfigurationError
from renkei.identity import FileStaffLogin, hash_password, load_users, verify_password
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from staff_view.served import audit_served
from staff_view.web import build_app
from tests.staff_view.test_web import _view

PASSWORD = "correct horse battery"


def _auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "staff-users.yaml"
    users = [{"id": "tanaka.k", "display_name": "田中", "password_hash": hash_password(PASSWORD)}]
    path.write_text(yaml.safe_dump({"users": users}, allow_unicode=True), encoding="utf-8")
    path.chmod(0o600)
    return path


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$") and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password("wrong", first)
    assert not verify_password(PASSWORD, "md5$x")


def test_an_open_users_file_is_refused(users_file: Path) -> None:
    users_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_users(users_file)


async def test_the_staff_view_needs_a_login_and_names_the_user(
    catalogue: Catalogue, settings: Settings, users_file: Path, tmp_path: Path
) -> None:
    view = _view(catalogue)
    assert view.served is not None
    login = FileStaffLogin.from_file(users_file)
    async with TestClient(TestServer(build_app(view, login))) as client:
        for headers in ({}, _auth("tanaka.k", "wrong"), _auth("nobody", PASSWORD)):
            for path in ("/", "/api/state"):
                refused = await client.get(path, headers=headers)
                assert refused.status == 401, path
                assert refused.headers["WWW-Authenticate"].startswith("Basic ")
        assert view.served.responses == 0  # nothing was served to anyone unknown
        assert (await client.get("/health/live")).status == 200  # probes stay open
        answer = await client.get("/api/state", headers=_auth("tanaka.k", PASSWORD))
        assert answer.status == 200
    audit = AuditLog.open(settings, path=tmp_path / "audit.jsonl", produce=False)
    await audit_served(view.served, audit, "app:staff_view (app-staff-view)")
    await audit.aclose()
    [record] = audit.file.records()
    assert record["details"]["users"] == ["tanaka.k"]
