"""Which identity provider a staff page runs with, and the refusal to run open where deployed.

:func:`staff_login` is the one policy for every staff page (the staff view, the data catalogue,
a later HTTP API):

1. an identity module named by the page (``package.module:factory``, e.g. an OIDC provider) is
   used as it is;
2. else a users file (``RENKEI_STAFF_USERS_FILE``, or the page's own setting) means every page
   but ``/health/*`` needs a login, and the user is named in the audit;
3. else, in secure/production mode (the platform's Kafka is ``SASL_SSL``, or the page was
   started with ``--secure`` / ``RENKEI_STAFF_REQUIRE_LOGIN=true``) the page **refuses to
   start**;
4. else (the plaintext development stack) the page is open to anyone who reaches the port: an
   :class:`OpenAccess` provider that names no one, with a warning in the log and on the page.

``--open-access`` / ``RENKEI_STAFF_OPEN_ACCESS=true`` asks for open access on purpose (also in
secure mode, e.g. behind the municipality's own sign-in proxy); it is logged at WARNING in a
banner at every start.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from aiohttp import web
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from renkei.errors import ConfigurationError
from renkei.identity.model import IdentityProvider, StaffIdentity
from renkei.identity.users import FileStaffLogin

log = logging.getLogger("renkei.identity")

OPEN_ACCESS_BANNER = (
    "*** OPEN ACCESS: %s has NO staff login; anyone who reaches %s sees it (%s). Development "
    "only: set RENKEI_STAFF_USERS_FILE for production. ***"
)


class IdentitySettings(BaseSettings):
    """The staff login's own settings (environment variables ``RENKEI_STAFF_*``), shared by
    every staff page."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_STAFF_", frozen=True, extra="ignore")

    users_file: Path | None = Field(
        default=None,
        description=(
            "Staff users file (YAML, 0600, scrypt hashes from `renkei identity hash`): every "
            "staff page then needs a signed-in user (HTTP Basic; serve behind TLS)."
        ),
    )
    require_login: bool = Field(
        default=False,
        description=(
            "Refuse to start a staff page without a login (implied when the platform's Kafka "
            "is SASL_SSL, and by --secure)."
        ),
    )
    open_access: bool = Field(
        default=False,
        description="Development only: serve the staff pages without any login (said loudly).",
    )


class OpenAccess:
    """No login: everyone who reaches the port is served, named by nobody (``signed_in`` is
    false, so audit records name the client address instead)."""

    login_url: str | None = None

    async def identify(self, request: web.Request) -> StaffIdentity | None:
        return StaffIdentity(
            id="open-access",
            display_name="ログインなし / no staff login",
            roles=("viewer",),
            signed_in=False,
        )


def open_access() -> IdentityProvider:
    """Identity-module factory of :class:`OpenAccess` (``renkei.identity:open_access``)."""
    return OpenAccess()


def load_identity(target: str) -> IdentityProvider:
    """Import ``module:factory`` and call it; ConfigurationError saying what is wrong."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(f"identity module {target!r}: write it as package.module:factory")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"identity module {target!r} cannot be imported: {exc}") from exc
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ConfigurationError(f"identity module {target!r}: {attribute} is not callable")
    try:
        provider = factory()
    except Exception as exc:  # whatever a module's factory raises, name the module
        raise ConfigurationError(
            f"identity module {target!r}: {attribute}() failed: {exc}"
        ) from exc
    if not isinstance(provider, IdentityProvider):
        raise ConfigurationError(
            f"identity module {target!r} returned {type(provider).__name__}, which has no "
            "async identify(request) and login_url"
        )
    return provider


def staff_login(
    service: str,
    where: str,
    identity_settings: IdentitySettings,
    *,
    secure: bool,
    module: str | None = None,
    users_file: Path | None = None,
    open_access: bool = False,
) -> IdentityProvider:
    """The provider of ``service`` (served at ``where``) under the policy of the module
    docstring; ConfigurationError (the page does not start) when it would run open in secure
    mode, or when open access and a login are both asked for. ``users_file`` and
    ``open_access`` are the page's own settings, over the shared ``RENKEI_STAFF_*`` ones."""
    secure = secure or identity_settings.require_login
    users_file = users_file or identity_settings.users_file
    wants_open = open_access or identity_settings.open_access
    if wants_open and (users_file is not None or module is not None):
        login = f"users file {users_file}" if users_file else f"identity module {module}"
        raise ConfigurationError(
            f"{service}: open access was asked for together with a staff login ({login}); "
            "choose one"
        )
    if module is not None:
        provider = load_identity(module)
        if isinstance(provider, OpenAccess) and secure and not wants_open:
            raise ConfigurationError(
                f"{service}: identity module {module!r} has no login, and this is a secure "
                "deployment; set RENKEI_STAFF_USERS_FILE (or --open-access on purpose)"
            )
        log.info("%s: staff login by identity module %s", service, module)
        return provider
    if users_file is not None:
        file_login = FileStaffLogin.from_file(users_file)
        count = len(file_login.users)
        log.info("%s: staff login required (%d users in %s)", service, count, users_file)
        return file_login
    if wants_open:
        log.warning(OPEN_ACCESS_BANNER, service, where, "--open-access / RENKEI_STAFF_OPEN_ACCESS")
        return OpenAccess()
    if secure:
        raise ConfigurationError(
            f"{service}: refusing to start without a staff login in a secure deployment "
            "(SASL_SSL Kafka, --secure or RENKEI_STAFF_REQUIRE_LOGIN): set "
            "RENKEI_STAFF_USERS_FILE to a users file (docs/security.md, 'Staff login'); "
            "--open-access serves it without one, for development only"
        )
    log.warning(OPEN_ACCESS_BANNER, service, where, "no RENKEI_STAFF_USERS_FILE, plaintext stack")
    return OpenAccess()
