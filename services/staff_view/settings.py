"""The staff view's own settings (prefix ``RENKEI_STAFF_VIEW_``), read once in ``main()``.

Kafka, the registry, the schema catalogue and the topic prefix come from the common
``renkei.settings.Settings``; only what is particular to this service is here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StaffViewSettings(BaseSettings):
    """Every knob of the staff view (environment variables ``RENKEI_STAFF_VIEW_*``)."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_STAFF_VIEW_", frozen=True, extra="ignore")

    bind: str = Field(
        default="127.0.0.1",
        description="Interface the web server listens on (0.0.0.0 in a container).",
    )
    port: int = Field(default=8090, ge=1, le=65535, description="HTTP port of the web page.")
    refresh_seconds: int = Field(
        default=10, ge=2, le=3600, description="How often the open page reloads its figures."
    )
    agreement: str = Field(
        default="staff-view",
        description=(
            "Id of the consumer agreement (RENKEI_AGREEMENTS_DIR) the view reads under: the "
            "page reads that agreement's purpose views view.<purpose>.region and "
            "view.<purpose>.evacuation-support, and its consumer groups are "
            "<topic prefix><consumer_group>-<random>-<view>: one per start, because the view "
            "keeps no state and re-reads both compacted views from the beginning."
        ),
    )
    audit_window_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Every this many seconds, a view.served audit record counts what /api/state served "
            "of the evacuation-support lists in the window (nothing is written for a window "
            "that served no list)."
        ),
    )
    audit_produce: bool = Field(
        default=True,
        description=(
            "Also produce the audit records to audit.access. Set false when the view's Kafka "
            "principal may not write that topic; the local hash-chained file is kept anyway."
        ),
    )
    catchup_idle_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "A source counts as loaded when it reached the end offsets seen at start, or when "
            "nothing arrived for this long (an unreadable record at the end of a partition)."
        ),
    )
    users_file: Path | None = Field(
        default=None,
        description=(
            "Staff users file (YAML, 0600; renkei.identity), over the shared "
            "RENKEI_STAFF_USERS_FILE: every page and /api/state then need a signed-in user "
            "(HTTP Basic, serve behind TLS), who is named in view.served. Neither set: the view "
            "refuses to start in a secure deployment (SASL_SSL Kafka or --secure) and runs open "
            "on the plaintext development stack (a warning banner says so)."
        ),
    )
    title: str = Field(
        default="連携基盤 職員向け画面", description="Heading of the page (e.g. the municipality)."
    )


def load_staff_view_settings() -> StaffViewSettings:
    """Read the environment once. Call from ``main()`` and pass the result down."""
    return StaffViewSettings()
