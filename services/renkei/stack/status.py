"""``renkei stack status``: what answers on the configured addresses, and who started it.

Up means answering the real protocol (a Kafka Metadata response listing a broker; HTTP 200 from
the registry's Confluent-compatible API), not merely a process or an open port.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from renkei.errors import StackError
from renkei.settings import Settings
from renkei.stack.endpoints import SECURE_SCHEME, StackEndpoints
from renkei.stack.kafka_probe import probe_kafka
from renkei.stack.kafka_server import KAFKA
from renkei.stack.layout import StackLayout
from renkei.stack.processes import PidRecord, live_record, read_pid_record
from renkei.stack.registry_proxy import REGISTRY_PROXY
from renkei.stack.registry_server import REGISTRY, probe_registry
from renkei.stack.secure import load_broker_security, secure_kafka_ready


@dataclass(frozen=True)
class ServerStatus:
    """One server as ``renkei stack status`` shows it."""

    name: str
    up: bool
    version: str | None
    address: str
    pid: int | None
    detail: str


@dataclass(frozen=True)
class StackStatus:
    """Both servers, and where their logs are."""

    servers: tuple[ServerStatus, ...]
    logs: Path

    @property
    def all_up(self) -> bool:
        return all(server.up for server in self.servers)

    def server(self, name: str) -> ServerStatus:
        return next(server for server in self.servers if server.name == name)


def _status_of(
    name: str, record: PidRecord | None, up: bool, version: str | None, address: str, problem: str
) -> ServerStatus:
    elsewhere = ""
    if record is not None and record.address != address:
        # Started under other settings (another port): not the server these settings reach.
        elsewhere = f"; `renkei stack` runs {name} {record.version} on {record.address}"
        record = None
    pid = record.pid if record else None
    if up and record:
        detail = "running"
    elif up:
        detail = "answers, but was not started by `renkei stack`"
    elif record:
        detail = f"process {record.pid} runs but does not answer yet ({problem})"
    else:
        detail = f"not running ({problem})"
    return ServerStatus(
        name, up, version or (record.version if record else None), address, pid, detail + elsewhere
    )


def _probe_kafka(endpoints: StackEndpoints, settings: Settings) -> tuple[bool, str]:
    """(up, why not): Metadata over plaintext, or an admin login over SASL_SSL."""
    if endpoints.secure:
        security = load_broker_security(settings.home)
        if security is None:
            return False, "no secure stack credentials under RENKEI_HOME/secrets"
        return secure_kafka_ready(endpoints, security), "no SASL_SSL answer as the admin"
    try:
        probe = probe_kafka(endpoints.kafka_host, endpoints.kafka_port)
    except StackError as exc:
        return False, str(exc.__cause__ or exc)
    return probe.ready, "no broker registered yet"


def stack_status(settings: Settings) -> StackStatus:
    """Probe both servers (Kafka protocol, registry HTTP) without changing anything."""
    layout = StackLayout(settings.home)
    endpoints = StackEndpoints.from_settings(settings)
    kafka_record = live_record(layout.pid_file(KAFKA))
    if kafka_record is not None and kafka_record.address.startswith(SECURE_SCHEME):
        endpoints = replace(endpoints, secure=True)  # a secure home: probe it as its admin
    kafka_up, problem = _probe_kafka(endpoints, settings)
    kafka = _status_of(KAFKA, kafka_record, kafka_up, None, endpoints.kafka_address, problem)
    registry_record = live_record(layout.pid_file(REGISTRY))
    answer = probe_registry(endpoints)
    registry = _status_of(
        REGISTRY,
        registry_record,
        answer.ready,
        answer.version,
        endpoints.registry_url,
        answer.detail,
    )
    from renkei.stack.cdc_stack import cdc_status

    servers: tuple[ServerStatus, ...] = (kafka, registry)
    proxy_record = read_pid_record(layout.pid_file(REGISTRY_PROXY))
    if proxy_record is not None:  # the secure stack's registry proxy
        proxy_up = live_record(layout.pid_file(REGISTRY_PROXY)) is not None
        servers += (
            _status_of(
                REGISTRY_PROXY,
                proxy_record if proxy_up else None,
                proxy_up and answer.ready,
                "-",
                endpoints.registry_url,
                "process gone" if not proxy_up else answer.detail,
            ),
        )
    return StackStatus((*servers, *cdc_status(settings, layout)), layout.logs)
