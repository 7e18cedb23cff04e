"""The Debezium connector of a department database, registered with Kafka Connect's REST API.

:func:`connector_config` is the whole configuration (docs/cdc-input.md explains each choice):
PostgreSQL's own ``pgoutput`` plugin, the mapping's table only, an existing publication,
transaction markers on (one database transaction → events released together), no tombstones
after a DELETE, decimals as text, one partition per topic (the adapter reads changes in commit
order). The password is not in the configuration: Kafka Connect's file config provider reads
it from a properties file next to the password file when the connector starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from renkei.errors import ConfigurationError, StackError
from renkei.input_formats.cdc_mapping import CdcRules
from renkei.settings import Settings
from renkei.stack.postgres_server import PUBLICATION, password_path
from renkei.stack.secure_tls import write_private

POSTGRES_CONNECTOR = "io.debezium.connector.postgresql.PostgresConnector"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class CdcTopics:
    """The topics Debezium writes for one connector (JSON, owned by the department)."""

    prefix: str
    """Debezium's ``topic.prefix``: ``[<test prefix>]cdc.<connector name>``."""
    table: str

    @property
    def changes(self) -> str:
        return f"{self.prefix}.{self.table}"

    @property
    def transactions(self) -> str:
        return f"{self.prefix}.transaction"


def cdc_topics(settings: Settings, name: str, rules: CdcRules) -> CdcTopics:
    check_name(name)
    return CdcTopics(f"{settings.topic_prefix}cdc.{name}", rules.table)


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ConfigurationError(
            f"connector name {name!r}: use lower-case letters, digits, - and _ (e.g. jumin)"
        )


def slot_name(settings: Settings, name: str) -> str:
    """The replication slot (PostgreSQL allows lower-case letters, digits and _ only)."""
    raw = f"renkei_{settings.topic_prefix}{name}".lower()
    return re.sub(r"[^a-z0-9_]", "_", raw)[:63]


def password_properties(settings: Settings) -> Path:
    """A properties file ``password=<the password file's text>`` for the file config provider
    (written 0600 beside the password file)."""
    source = password_path(settings)
    try:
        password = source.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the database password file {source}: {exc} (RENKEI_CDC_DATABASE_"
            "PASSWORD_FILE; the local stack writes it with `renkei stack up --cdc`)"
        ) from exc
    if not password or any(ch in password for ch in "\\\n\r"):
        raise ConfigurationError(f"{source}: empty, or holds a backslash or a line break")
    target = source.with_suffix(".properties")
    write_private(target, f"password={password}\n".encode())
    return target


def connector_config(
    settings: Settings,
    name: str,
    rules: CdcRules,
    *,
    database: str | None = None,
    publication: str = PUBLICATION,
) -> dict[str, str]:
    """The Debezium PostgreSQL connector's configuration for ``rules.table``."""
    topics = cdc_topics(settings, name, rules)
    return {
        "connector.class": POSTGRES_CONNECTOR,
        "plugin.name": "pgoutput",
        "database.hostname": settings.cdc_database_host,
        "database.port": str(settings.cdc_database_port),
        "database.user": settings.cdc_database_user,
        "database.password": f"${{file:{password_properties(settings)}:password}}",
        "database.dbname": database or settings.cdc_database_name,
        "topic.prefix": topics.prefix,
        "table.include.list": rules.table,
        "slot.name": slot_name(settings, name),
        "publication.name": publication,
        "publication.autocreate.mode": "disabled",
        "snapshot.mode": "initial",
        "provide.transaction.metadata": "true",
        "tombstones.on.delete": "false",
        "decimal.handling.mode": "string",
        "topic.creation.default.replication.factor": str(settings.topic_replication_factor),
        "topic.creation.default.partitions": "1",
        "topic.creation.default.cleanup.policy": "delete",
    }


class ConnectClient:
    """The few Kafka Connect REST calls the CDC commands make."""

    def __init__(self, settings: Settings):
        self.base = settings.connect_url.rstrip("/")

    def _call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        try:
            return httpx.request(method, f"{self.base}{path}", json=json, timeout=30.0)
        except httpx.HTTPError as exc:
            raise StackError(
                f"Kafka Connect at {self.base} not reachable ({type(exc).__name__}); is it up? "
                "(renkei stack up --cdc)"
            ) from exc

    def put_config(self, name: str, config: dict[str, str]) -> bool:
        """Create or update ``name``; True when it was created."""
        response = self._call("PUT", f"/connectors/{name}/config", config)
        if response.status_code not in (200, 201):
            raise StackError(f"Kafka Connect refused connector {name}: {_message(response)}")
        return response.status_code == 201

    def status(self, name: str) -> dict[str, Any] | None:
        response = self._call("GET", f"/connectors/{name}/status")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise StackError(f"status of connector {name}: {_message(response)}")
        found: dict[str, Any] = response.json()
        return found

    def delete(self, name: str) -> bool:
        response = self._call("DELETE", f"/connectors/{name}")
        if response.status_code not in (204, 404):
            raise StackError(f"deleting connector {name}: {_message(response)}")
        return response.status_code == 204


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))[:500]
    except ValueError:
        return response.text[:500]


def running_state(status: dict[str, Any] | None) -> tuple[bool, str]:
    """(running, description) of a connector status answer (the connector and its task)."""
    if status is None:
        return False, "not registered"
    connector = status.get("connector", {}).get("state", "?")
    tasks = status.get("tasks") or []
    states = [str(t.get("state")) for t in tasks]
    failed = [
        str(t.get("trace", "")).splitlines()[0:1] for t in tasks if t.get("state") == "FAILED"
    ]
    running = connector == "RUNNING" and bool(states) and all(s == "RUNNING" for s in states)
    detail = f"connector {connector}, tasks {', '.join(states) or 'none'}"
    if failed and failed[0]:
        detail += f": {failed[0][0][:300]}"
    return running, detail
