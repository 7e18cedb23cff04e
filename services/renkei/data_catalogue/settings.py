"""The catalogue page's own settings (prefix ``RENKEI_CATALOGUE_``), read once in ``main()``.

Kafka, the registry, the schema catalogue, the agreements, the topic prefix and the workers'
web ports come from the common ``renkei.settings.Settings``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogueSettings(BaseSettings):
    """Every knob of the catalogue page (environment variables ``RENKEI_CATALOGUE_*``)."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_CATALOGUE_", frozen=True, extra="ignore")

    bind: str = Field(default="127.0.0.1", description="Interface the page listens on.")
    port: int = Field(default=8094, ge=1, le=65535, description="HTTP port of the page.")
    base_url: str | None = Field(
        default=None,
        description=(
            "Public address of the page (e.g. https://catalogue.lgwan.example), used for the "
            "dataset IRIs of the DCAT export; default http://<bind>:<port>."
        ),
    )
    publisher: str = Field(
        default="連携基盤 (Renkei platform)",
        description="dct:publisher of the DCAT catalogue, e.g. the municipality's name.",
    )
    refresh_seconds: int = Field(
        default=15, ge=2, le=3600, description="How often the open page reloads the live figures."
    )
    live_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="Live figures are read from Kafka and the workers at most this often.",
    )
    window_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 24 * 3600,
        description="The 'recently written' figure counts records of this many seconds.",
    )
    identity: str | None = Field(
        default=None,
        description=(
            "Identity module (package.module:factory returning a renkei.identity "
            "IdentityProvider, e.g. an OIDC login). Unset: the staff login of "
            "RENKEI_STAFF_USERS_FILE (renkei.identity.staff_login: required when set, refused "
            "start without it in a secure deployment, open only on the development stack)."
        ),
    )
    open_access: bool = Field(
        default=False,
        description="Development only: serve the page without any staff login (said loudly).",
    )

    def public_url(self) -> str:
        return (self.base_url or f"http://{self.bind}:{self.port}").rstrip("/")
