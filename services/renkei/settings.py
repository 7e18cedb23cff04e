"""Settings: environment variables read once into a frozen object and passed down.

Contract names (ARCHITECTURE.md): ``RENKEI_KAFKA_BOOTSTRAP``, ``RENKEI_SCHEMA_REGISTRY_URL``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _repo_root() -> Path:
    """The checkout this package runs from (editable install), else the working directory."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "schemas" / "avro").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


class Settings(BaseSettings):
    """Every knob Renkei reads from the environment (prefix ``RENKEI_``)."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_", frozen=True, extra="ignore")

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, comma separated."
    )
    schema_registry_url: str = Field(
        default="http://127.0.0.1:8081/apis/ccompat/v7",
        description="Confluent-compatible schema registry base URL.",
    )
    home: Path = Field(
        default_factory=lambda: _repo_root() / ".renkei",
        description="Where the local stack keeps downloads, data and logs.",
    )
    schemas_dir: Path = Field(
        default_factory=lambda: _repo_root() / "schemas" / "avro",
        description="The schema catalogue folder.",
    )
    source_system: str = Field(
        default="renkei-cli", description="CloudEvents ce_source of events this process publishes."
    )


def load_settings() -> Settings:
    """Read the environment once. Call from ``main()`` and pass the result down."""
    return Settings()
