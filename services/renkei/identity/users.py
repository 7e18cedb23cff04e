"""The staff users file and HTTP Basic login against it (:class:`FileStaffLogin`).

The file (YAML, 0600, e.g. ``$RENKEI_HOME/secrets/staff-users.yaml``)::

    users:
      - id: tanaka.k                       # named in audit records (view.served "users")
        display_name: 田中 (危機管理課)
        password_hash: scrypt$16384$8$1$<salt>$<hash>   # renkei identity hash
        departments: [危機管理課]
        roles: [viewer]
"""

from __future__ import annotations

import base64
import binascii
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml
from aiohttp import web

from renkei.errors import ConfigurationError
from renkei.identity.model import StaffIdentity
from renkei.identity.passwords import hash_password, verify_password


@dataclass(frozen=True)
class StaffUser:
    identity: StaffIdentity
    password_hash: str


def load_users(path: Path) -> dict[str, StaffUser]:
    """The users of ``path``; ConfigurationError naming the problem otherwise. Others may not
    read it, and nobody but its owner may write it (0600 on a host; 0440 is accepted for a
    Kubernetes Secret volume, whose files the pod's fsGroup reads)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"staff users file {path}: cannot read: {exc}") from exc
    if mode & 0o027:
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
    """HTTP Basic login against a users file (browsers ask for it natively; serve behind TLS)."""

    login_url: str | None = None

    def __init__(self, users: dict[str, StaffUser], source: str = "users file"):
        self.users = users
        self.source = source
        self._dummy = hash_password("not-a-user", salt=b"\0" * 16)

    @classmethod
    def from_file(cls, path: Path) -> FileStaffLogin:
        return cls(load_users(path), source=str(path))

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
