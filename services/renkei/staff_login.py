"""Staff login: users from a file with scrypt-hashed passwords, one identity seam for every
staff page (the staff view today, the data catalogue and a later HTTP API tomorrow).

The users file (YAML, 0600, e.g. ``$RENKEI_HOME/secrets/staff-users.yaml``)::

    users:
      - id: tanaka.k                       # shown in audit records (view.served "users")
        display_name: 田中 (危機管理課)
        password_hash: scrypt$16384$8$1$<salt>$<hash>   # python -m renkei.staff_login hash
        departments: [危機管理課]
        roles: [viewer]

:class:`FileStaffLogin` checks HTTP Basic credentials against it (browsers ask for them
natively; use it behind TLS). It has the shape of an identity provider —
``async identify(request) -> StaffIdentity | None`` and ``login_url`` — so an OIDC provider can
replace it without touching the pages: an OIDC module returns the same :class:`StaffIdentity`
from its session cookie and sets ``login_url`` to its authorization endpoint.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import os
import stat
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from renkei.errors import ConfigurationError

_N, _R, _P = 16384, 8, 1
REALM = "renkei-staff"


@dataclass(frozen=True)
class StaffIdentity:
    """A signed-in member of staff."""

    id: str
    display_name: str
    departments: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


STAFF = web.RequestKey("staff", StaffIdentity)
"""Where :func:`login_middleware` puts the identity of a request."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$<salt b64>$<hash b64>`` of ``password`` (a fresh 16-byte salt)."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the ``stored`` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class StaffUser:
    identity: StaffIdentity
    password_hash: str


def load_users(path: Path) -> dict[str, StaffUser]:
    """The users of ``path`` (must not be readable by group or others); ConfigurationError
    naming the problem otherwise."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"staff users file {path}: cannot read: {exc}") from exc
    if mode & 0o077:
        raise ConfigurationError(f"staff users file {path} is open to others; chmod 600 it")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"staff users file {path}: not valid YAML: {exc}") from exc
    users: dict[str, StaffUser] = {}
    for entry in data.get("users") or [] if isinstance(data, dict) else []:
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("password_hash"):
            raise ConfigurationError(f"staff users file {path}: each user needs id, password_hash")
        user_id = str(entry["id"])
        if ":" in user_id or user_id in users:
            raise ConfigurationError(f"staff users file {path}: bad or repeated id {user_id!r}")
        identity = StaffIdentity(
            id=user_id,
            display_name=str(entry.get("display_name") or user_id),
            departments=tuple(str(d) for d in entry.get("departments") or ()),
            roles=tuple(str(r) for r in entry.get("roles") or ("viewer",)),
        )
        users[user_id] = StaffUser(identity, str(entry["password_hash"]))
    if not users:
        raise ConfigurationError(f"staff users file {path} lists no users")
    return users


class FileStaffLogin:
    """HTTP Basic login against a users file (see the module docstring)."""

    login_url: str | None = None

    def __init__(self, users: dict[str, StaffUser]):
        self.users = users
        self._dummy = hash_password("not-a-user", salt=b"\0" * 16)

    @classmethod
    def from_file(cls, path: Path) -> FileStaffLogin:
        return cls(load_users(path))

    async def identify(self, request: web.Request) -> StaffIdentity | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user_id, sep, password = decoded.partition(":")
        user = self.users.get(user_id)
        # Unknown users cost the same hash as known ones (no user enumeration by timing).
        ok = verify_password(password, user.password_hash if user else self._dummy)
        return user.identity if (sep and user and ok) else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def login_middleware(provider: Any, *, open_prefixes: tuple[str, ...] = ("/health/",)) -> Any:
    """aiohttp middleware: every request but ``open_prefixes`` needs an identity from
    ``provider`` (else 401 asking for Basic credentials); the identity is put on
    ``request[STAFF]``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(open_prefixes):
            return await handler(request)
        identity = await provider.identify(request)
        if identity is None:
            headers = {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'}
            if provider.login_url:
                raise web.HTTPFound(provider.login_url)
            return web.Response(status=401, text="login required", headers=headers)
        request[STAFF] = identity
        return await handler(request)

    return middleware


def main(argv: list[str] | None = None) -> None:
    """``python -m renkei.staff_login hash``: read a password (twice), print its hash."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["hash"]:
        print("usage: python -m renkei.staff_login hash", file=sys.stderr)
        sys.exit(2)
    password = getpass.getpass("password: ")
    if not password or password != getpass.getpass("again: "):
        print("empty or not the same twice", file=sys.stderr)
        sys.exit(1)
    print(hash_password(password))


if __name__ == "__main__":
    main()
