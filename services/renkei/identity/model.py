"""Who is looking: :class:`StaffIdentity`, where a page keeps it, what a provider offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aiohttp import web


@dataclass(frozen=True)
class StaffIdentity:
    """A member of staff behind a request (``signed_in=False``: open access, nobody named)."""

    id: str
    display_name: str
    departments: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    signed_in: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "departments": list(self.departments),
            "roles": list(self.roles),
            "signed_in": self.signed_in,
        }


STAFF = web.RequestKey("staff", StaffIdentity)
"""Where :func:`renkei.identity.login_middleware` puts the identity of a request."""


@runtime_checkable
class IdentityProvider(Protocol):
    """What an identity module provides (the users file today, an OIDC provider tomorrow)."""

    login_url: str | None

    async def identify(self, request: web.Request) -> StaffIdentity | None:
        """The staff member behind ``request``, or None when not signed in."""
        ...
