"""Per-purpose pseudonymous keys (仮名化キー): HMAC-SHA256(secret of the purpose, resident_key).

Each purpose has its own 32-byte secret in ``<secrets folder>/<purpose>.key`` (hex text, mode
0600, generated on first use). The same resident gets the same pseudonym in every record of one
purpose and unrelated pseudonyms in different purposes; without the secret a pseudonym cannot be
linked back to a resident (re-identification stays inside the platform, which holds the
secrets). The key id (a fingerprint of the secret, not the secret) travels with every view
record, so consumers notice a rotation (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from renkei.errors import ConfigurationError
from renkei.settings import Settings

_PURPOSE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SECRET_BYTES = 32


def secrets_folder(settings: Settings) -> Path:
    """``RENKEI_PSEUDONYM_SECRETS_DIR``, else ``<RENKEI_HOME>/secrets/pseudonym``."""
    return settings.pseudonym_secrets_dir or settings.home / "secrets" / "pseudonym"


@dataclass(frozen=True)
class PseudonymKey:
    """The secret of one purpose. ``repr`` never shows the secret."""

    purpose: str
    secret: bytes

    def __repr__(self) -> str:
        return f"PseudonymKey(purpose={self.purpose!r}, key_id={self.key_id!r})"

    @property
    def key_id(self) -> str:
        """Fingerprint of the secret (12 hex digits): changes when the key is rotated."""
        digest = hashlib.sha256(b"renkei-pseudonym-key-id\x00" + self.secret)
        return digest.hexdigest()[:12]

    def pseudonym(self, resident_key: str) -> str:
        """HMAC-SHA256 of the resident key, hex (64 characters)."""
        return hmac.new(self.secret, resident_key.encode("utf-8"), hashlib.sha256).hexdigest()

    def household(self, household_number: str) -> str:
        """The purpose's pseudonym of a 世帯番号 (16 hex digits; "" stays "", a withheld one):
        members of one household still share it within the purpose, two purposes cannot join
        on it."""
        if not household_number:
            return ""
        data = b"renkei-household\x00" + household_number.encode("utf-8")
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()[:16]

    def view_id(self, source_id: str) -> str:
        """A UUID of this purpose for ``source_id`` (an event id, a record's position):
        HMAC-SHA256 with a separate domain, so the same source gives the same id on every
        redelivery within the purpose and unrelated ids in two purposes (no join key)."""
        mac = hmac.new(self.secret, b"renkei-view-id\x00" + source_id.encode("utf-8"), "sha256")
        raw = bytearray(mac.digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80  # version 8: application-defined (RFC 9562)
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        return str(uuid.UUID(bytes=bytes(raw)))


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"pseudonym key {path} is readable by others (mode {mode:o}); chmod 600 it"
        )


def check_folder(folder: Path) -> None:
    """The key folder must be 0700: a group- or world-accessible folder lets others list,
    replace or plant key files (ConfigurationError naming the fix)."""
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"pseudonym key folder {folder} is open to others (mode {mode:o}); chmod 700 it"
        )


def read_key(path: Path, purpose: str) -> PseudonymKey:
    """The key in ``path`` (hex text, must be 0600), e.g. a retired one during an overlap."""
    _check_private(path)
    text = path.read_text(encoding="ascii").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"pseudonym key {path}: not hex text") from None
    if len(secret) < 16:
        raise ConfigurationError(f"pseudonym key {path}: shorter than 16 bytes")
    return PseudonymKey(purpose, secret)


def load_or_create_key(folder: Path, purpose: str) -> PseudonymKey:
    """The key of ``purpose``; a new random one (0600) is written when the file is missing.

    Creation is exclusive (O_EXCL): two workers starting together end with the same key."""
    if not _PURPOSE.match(purpose):
        raise ConfigurationError(f"purpose {purpose!r} cannot name a key file")
    path = folder / f"{purpose}.key"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_folder(folder)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return read_key(path, purpose)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(_SECRET_BYTES) + "\n")
    return read_key(path, purpose)


def rotate_key(folder: Path, purpose: str) -> tuple[PseudonymKey, Path | None]:
    """Replace the key of ``purpose`` by a new one; the old file is kept as
    ``retired/<purpose>.<key id>.key`` (0600) for the overlap period. Returns (new key, where
    the old one went)."""
    path = folder / f"{purpose}.key"
    retired: Path | None = None
    if path.exists():
        old = read_key(path, purpose)
        (folder / "retired").mkdir(parents=True, exist_ok=True, mode=0o700)
        retired = folder / "retired" / f"{purpose}.{old.key_id}.key"
        os.replace(path, retired)
    return load_or_create_key(folder, purpose), retired
