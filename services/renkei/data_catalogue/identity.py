"""Who is looking: the seam where the staff login plugs in.

The staff login (the access-control issue of this wave) has not landed. Until it does, the
page runs with :class:`LocalStaff`: it names no one, and says so on the page; publish the port
only behind the municipality's own sign-in (a reverse proxy), as for the staff view.

An identity module is any importable callable named by ``RENKEI_CATALOGUE_IDENTITY``
(``package.module:factory``) that returns an :class:`IdentityProvider`: an object with
``async identify(request) -> StaffIdentity | None``. ``None`` means "not signed in": the page
answers 401 and, when the provider gives one, sends the browser to its ``login_url``. The web
app asks the provider on every request except ``/health/*`` and puts the answer on the request
(``request[STAFF]``); ``/api/whoami`` returns it and the page shows the name. The staff view
can take the same module through the same two names when it moves under the login.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from renkei.errors import ConfigurationError


@dataclass(frozen=True)
class StaffIdentity:
    """A signed-in member of staff (or the local stand-in)."""

    id: str
    display_name: str
    departments: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    signed_in: bool = True
    attributes: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "departments": list(self.departments),
            "roles": list(self.roles),
            "signed_in": self.signed_in,
        }


STAFF = web.RequestKey("staff", StaffIdentity)
"""Where the web app puts the identity of a request."""


@runtime_checkable
class IdentityProvider(Protocol):
    """What an identity module provides."""

    login_url: str | None

    async def identify(self, request: web.Request) -> StaffIdentity | None:
        """The staff member behind ``request``, or None when not signed in."""
        ...


class LocalStaff:
    """No login yet: everyone who reaches the port is "local staff" (not signed in)."""

    login_url: str | None = None

    async def identify(self, request: web.Request) -> StaffIdentity | None:
        return StaffIdentity(
            id="local",
            display_name="ログイン機能なし / no staff login",
            roles=("viewer",),
            signed_in=False,
        )


def local_staff() -> IdentityProvider:
    """The default identity module (``renkei.data_catalogue.identity:local_staff``)."""
    return LocalStaff()


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
