"""Staff identity: one module for every staff page (the staff view, the data catalogue, a
later HTTP API).

- :mod:`~renkei.identity.users`: the users file (YAML, 0600, scrypt hashes) and HTTP Basic
  login against it (:class:`FileStaffLogin`);
- :mod:`~renkei.identity.providers`: the seam (``package.module:factory`` returning an
  :class:`IdentityProvider`, e.g. an OIDC provider that returns the same
  :class:`StaffIdentity` from its session and sets ``login_url``) and :func:`staff_login`, the
  policy: login when a users file is configured, refusal to start without one in a secure
  deployment, open access only in development or on purpose, said loudly;
- :mod:`~renkei.identity.web`: the aiohttp middleware that asks the provider on every request
  but ``/health/*`` and puts the identity on ``request[STAFF]``.

``renkei identity hash`` (or ``python -m renkei.identity hash``) prints the hash of a password
for the users file.
"""

from renkei.identity.model import STAFF, IdentityProvider, StaffIdentity
from renkei.identity.passwords import hash_password, verify_password
from renkei.identity.providers import (
    IdentitySettings,
    OpenAccess,
    load_identity,
    open_access,
    staff_login,
)
from renkei.identity.users import FileStaffLogin, StaffUser, load_users
from renkei.identity.web import REALM, login_middleware

__all__ = [
    "REALM",
    "STAFF",
    "FileStaffLogin",
    "IdentityProvider",
    "IdentitySettings",
    "OpenAccess",
    "StaffIdentity",
    "StaffUser",
    "hash_password",
    "load_identity",
    "load_users",
    "login_middleware",
    "open_access",
    "staff_login",
    "verify_password",
]
