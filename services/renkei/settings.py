"""Settings: environment variables read once into a frozen object and passed down.

Contract names (ARCHITECTURE.md): ``RENKEI_KAFKA_BOOTSTRAP``, ``RENKEI_SCHEMA_REGISTRY_URL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_schemas_dir() -> Path:
    """The catalogue shipped with the checkout (``RENKEI_SCHEMAS_DIR`` overrides it in
    :class:`Settings`)."""
    return _repo_root() / "schemas" / "avro"


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
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="PLAINTEXT (the shared dev stack) or SASL_SSL (`renkei stack up --secure`).",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism under SASL_SSL."
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="SASL user (Kafka principal User:<name>) under SASL_SSL."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SASL password; never logged (or use the _FILE variant)."
    )
    kafka_sasl_password_file: Path | None = Field(
        default=None,
        description="File holding the SASL password (e.g. written by `renkei agreements apply`).",
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM CA file the broker certificate is checked against (default: system CAs).",
    )
    schema_registry_url: str = Field(
        default="http://127.0.0.1:8081/apis/ccompat/v7",
        description="Confluent-compatible schema registry base URL.",
    )
    schema_registry_username: str | None = Field(
        default=None,
        description="HTTP Basic user for schema changes through the secure stack's registry "
        "proxy (the schema principal renkei-schema); reads need none.",
    )
    schema_registry_password: SecretStr | None = Field(
        default=None, description="Its password; never logged (or use the _FILE variant)."
    )
    schema_registry_password_file: Path | None = Field(
        default=None,
        description="File holding the registry password ($RENKEI_HOME/secrets/users/"
        "renkei-schema.password on the secure stack).",
    )
    home: Path = Field(
        default_factory=lambda: _repo_root() / ".renkei",
        description="Where the local stack keeps downloads, data and logs.",
    )
    schemas_dir: Path = Field(
        default_factory=default_schemas_dir,
        description="The schema catalogue folder.",
    )
    agreements_dir: Path = Field(
        default_factory=lambda: _repo_root() / "deploy" / "agreements",
        description="The data-sharing agreements folder (one YAML file per agreement).",
    )
    municipality_code: str | None = Field(
        default=None,
        description=(
            "全国地方公共団体コード (6 digits with check digit) of the municipality running the "
            "platform; written into audit records."
        ),
    )
    pseudonym_secrets_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the per-purpose pseudonym secrets (<purpose>.key); default "
            "<RENKEI_HOME>/secrets/pseudonym. Missing keys are generated there (mode 0600)."
        ),
    )
    evacuation_disaster_mode: bool = Field(
        default=False,
        description=(
            "Operator switch of the evacuation stage: list every candidate without consent "
            "whatever the alert level (災害対策基本法 49条の11③); audited at startup."
        ),
    )
    code_maps_dir: Path = Field(
        default_factory=lambda: _repo_root() / "deploy" / "code-maps",
        description=(
            "Code maps (コード読替表) the standardize stage reads at start: a source system's own "
            "codes -> the standard's (docs/dlq.md)."
        ),
    )
    connect_url: str = Field(
        default="http://127.0.0.1:8083",
        description=(
            "Kafka Connect REST API that runs the change-data-capture connectors "
            "(`renkei stack up --cdc` starts one on this port; docs/cdc-input.md)."
        ),
    )
    cdc_database_host: str = Field(
        default="127.0.0.1", description="Host of the department database captured by CDC."
    )
    cdc_database_port: int = Field(
        default=5432,
        description="PostgreSQL port of the department database (the local stack's with --cdc).",
    )
    cdc_database_name: str = Field(default="jumin", description="The captured database.")
    cdc_database_user: str = Field(
        default="renkei_cdc",
        description="The database user of the connector (LOGIN REPLICATION, SELECT on the table).",
    )
    cdc_database_password_file: Path | None = Field(
        default=None,
        description=(
            "File holding that user's password; the connector reads it through Kafka Connect's "
            "file config provider, so it is never stored in a connector's configuration. "
            "Default <RENKEI_HOME>/secrets/cdc/<user>.password (the local stack writes it)."
        ),
    )
    source_system: str = Field(
        default="renkei-cli", description="CloudEvents ce_source of events this process publishes."
    )
    topic_prefix: str = Field(
        default="",
        description=(
            "Prefix of every topic, registry subject and consumer group a worker uses (isolated "
            "test runs); empty in production, where the names are the contract."
        ),
    )
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        description=(
            "Replication factor of every topic Renkei creates (catalogue topics, DLQs, stage "
            "changelogs and internal topics); 3 on a multi-broker cluster, 1 on the local stack."
        ),
    )
    worker_session_timeout: float = Field(
        default=60.0,
        ge=6,
        description=(
            "Seconds without heartbeats before the group drops a worker (faust's default 60): "
            "after a crash, the partitions of a killed worker move on only then."
        ),
    )
    worker_fence: bool = Field(
        default=True,
        description=(
            "Stop (exit 1) a worker whose requests to its group coordinator have hung for 0.8 "
            "of the session timeout, so outputs it could not deliver during a network partition "
            "are not written after the new owner's once the network heals (runtime/fence.py)."
        ),
    )
    worker_web_bind: str = Field(
        default="127.0.0.1",
        description="Interface the workers' web servers (/metrics, faust views) listen on.",
    )
    worker_web_port_base: int = Field(
        default=6066,
        description=(
            "Web port of the standardize worker; resident, region and evacuation use the next "
            "three ports (6066-6069 by default)."
        ),
    )
    stage_lane_check_ms: float = Field(
        default=50.0,
        gt=0,
        description=(
            "How often a stage worker compares its live inputs' lag with zero to pause or "
            "resume its bulk lanes (<topic>.bulk inputs), in milliseconds."
        ),
    )
    stage_batch_max_records: int = Field(
        default=500,
        ge=1,
        description=(
            "Commit interval of the stage workers: a batch is delivered and acked after at "
            "most this many records (table changes written once per key per batch)."
        ),
    )
    stage_batch_max_ms: float = Field(
        default=200.0,
        gt=0,
        description=(
            "Commit interval of the stage workers: a batch is delivered and acked at most this "
            "many milliseconds after its first record (sooner when the input goes idle)."
        ),
    )
    table_write_buffer_mb: int = Field(
        default=16,
        ge=1,
        description=(
            "RocksDB write buffer (memtable) per table partition store, MiB; at most two are "
            "kept. faust's default (64 MiB × 3 per store) let a resident worker restoring a "
            "large table grow by ~2.9 GiB per million residents."
        ),
    )
    table_block_cache_mb: int = Field(
        default=32,
        ge=1,
        description=(
            "RocksDB block cache per table partition store, MiB (faust's default: 2 GiB each, "
            "plus a 500 MiB compressed cache)."
        ),
    )
    dlq_breaker_window_records: int = Field(
        default=1000, ge=1, description="DLQ breaker: how many recent records it looks at."
    )
    dlq_breaker_window_seconds: float = Field(
        default=60.0, gt=0, description="DLQ breaker: records older than this leave the window."
    )
    dlq_breaker_min_records: int = Field(
        default=100, ge=1, description="DLQ breaker: records needed in the window before it judges."
    )
    dlq_breaker_max_failure_ratio: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description=(
            "DLQ breaker: the worker stops (instead of routing) when more than this share of the "
            "window failed."
        ),
    )


def load_settings() -> Settings:
    """Read the environment once. Call from ``main()`` and pass the result down."""
    return Settings()
