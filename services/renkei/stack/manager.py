"""The local stack as a whole: bring it up idempotently, report on it, stop what it started.

:func:`ensure_stack_up` phases:

1. read the addresses from settings (loopback only) and the requested Kafka version;
2. find the Java runtimes needed (fails before any download if the registry's JDK is missing);
3. Kafka: leave ours alone if it runs (refuse a different version), refuse a port taken by a
   process we did not start, else fetch/format/start it and wait for a Metadata answer;
4. the registry likewise, after Kafka (it stores schemas in a Kafka topic).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from renkei.errors import StackError
from renkei.settings import Settings
from renkei.stack.endpoints import StackEndpoints
from renkei.stack.java import JavaRuntime, find_java, find_registry_java
from renkei.stack.kafka_probe import port_in_use, probe_kafka
from renkei.stack.kafka_server import KAFKA, kafka_ready, start_kafka
from renkei.stack.layout import StackLayout
from renkei.stack.processes import (
    PidRecord,
    StopOutcome,
    live_record,
    read_pid_record,
    stack_lock,
    stop_process,
    wait_until_ready,
)
from renkei.stack.registry_server import REGISTRY, probe_registry, start_registry
from renkei.stack.reporting import Progress, no_progress
from renkei.stack.versions import (
    APICURIO_VERSION,
    DEFAULT_KAFKA_VERSION,
    KAFKA_MIN_JAVA,
    REGISTRY_MIN_JAVA,
    KafkaVersion,
)

SERVERS = (KAFKA, REGISTRY)


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


@dataclass(frozen=True)
class StopReport:
    """What ``renkei stack down`` did to one server."""

    name: str
    outcome: StopOutcome | Literal["not started"]
    pid: int | None
    detail: str


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


def stack_status(settings: Settings) -> StackStatus:
    """Probe both servers (Kafka protocol, registry HTTP) without changing anything."""
    layout = StackLayout(settings.home)
    endpoints = StackEndpoints.from_settings(settings)
    try:
        probe = probe_kafka(endpoints.kafka_host, endpoints.kafka_port)
        kafka_up, problem = probe.ready, "no broker registered yet"
    except StackError as exc:
        kafka_up, problem = False, str(exc.__cause__ or exc)
    kafka_record = live_record(layout.pid_file(KAFKA))
    kafka = _status_of(KAFKA, kafka_record, kafka_up, None, endpoints.kafka_bootstrap, problem)
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
    return StackStatus((kafka, registry), layout.logs)


def _refuse_other_address(name: str, record: PidRecord, address: str) -> None:
    if record.address != address:
        raise StackError(
            f"`renkei stack` already runs {name} {record.version} on {record.address} (pid "
            f"{record.pid}) but the settings ask for {address}; stop it with the settings it "
            "was started with (`renkei stack down`), or use the same settings"
        )


def _ensure_kafka(
    layout: StackLayout,
    endpoints: StackEndpoints,
    requested: KafkaVersion | None,
    java: JavaRuntime | None,
    progress: Progress,
    timeout: float,
) -> ServerStatus:
    record = live_record(layout.pid_file(KAFKA))
    if record is not None:
        _refuse_other_address(KAFKA, record, endpoints.kafka_bootstrap)
        if requested is not None and str(requested) != record.version:
            raise StackError(
                f"Kafka {record.version} is running (pid {record.pid}, started by `renkei stack`);"
                f" run `renkei stack down` first to switch to Kafka {requested}"
            )
        wait_until_ready(
            lambda: kafka_ready(endpoints),
            what=f"kafka {record.version}",
            record=record,
            process=None,
            timeout=timeout,
            logs=[layout.kafka_out, layout.kafka_log],
            progress=progress,
        )
        progress(f"kafka {record.version}: already running on {record.address} (pid {record.pid})")
        return ServerStatus(
            KAFKA, True, record.version, record.address, record.pid, "already running"
        )
    for port in (endpoints.kafka_port, endpoints.controller_port):
        if port_in_use(endpoints.kafka_host, port):
            raise StackError(
                f"{endpoints.kafka_host}:{port} is taken by a process `renkei stack` did not "
                "start (another Kafka?); stop it first, or set RENKEI_KAFKA_BOOTSTRAP to a "
                "free port (the controller uses the next one)"
            )
    assert java is not None
    version = requested or KafkaVersion.parse(DEFAULT_KAFKA_VERSION)
    record, waited = start_kafka(layout, version, endpoints, java, progress, timeout=timeout)
    progress(f"kafka {version}: up in {waited:.1f} s (pid {record.pid})")
    return ServerStatus(
        KAFKA, True, str(version), record.address, record.pid, f"started in {waited:.1f} s"
    )


def _ensure_registry(
    layout: StackLayout,
    endpoints: StackEndpoints,
    java: JavaRuntime | None,
    progress: Progress,
    timeout: float,
) -> ServerStatus:
    record = live_record(layout.pid_file(REGISTRY))
    if record is not None:
        _refuse_other_address(REGISTRY, record, endpoints.registry_url)
        wait_until_ready(
            lambda: probe_registry(endpoints).ready,
            what=f"registry {record.version}",
            record=record,
            process=None,
            timeout=timeout,
            logs=[layout.registry_log],
            progress=progress,
        )
        progress(
            f"registry {record.version}: already running on {record.address} (pid {record.pid})"
        )
        return ServerStatus(
            REGISTRY, True, record.version, record.address, record.pid, "already running"
        )
    for port in (endpoints.registry_port, endpoints.registry_management_port):
        if port_in_use(endpoints.registry_host, port):
            raise StackError(
                f"{endpoints.registry_host}:{port} is taken by a process `renkei stack` did "
                "not start (another registry?); stop it first, or set "
                "RENKEI_SCHEMA_REGISTRY_URL to a free port (management uses port + 1000)"
            )
    assert java is not None
    record, waited = start_registry(
        layout, APICURIO_VERSION, endpoints, java, progress, timeout=timeout
    )
    version = probe_registry(endpoints).version or APICURIO_VERSION
    progress(f"registry {version}: up in {waited:.1f} s (pid {record.pid})")
    return ServerStatus(
        REGISTRY, True, version, record.address, record.pid, f"started in {waited:.1f} s"
    )


def ensure_stack_up(
    settings: Settings,
    *,
    kafka_version: str | None = None,
    registry_java: Path | None = None,
    progress: Progress = no_progress,
    kafka_timeout: float = 90.0,
    registry_timeout: float = 180.0,
) -> StackStatus:
    """Start whatever of Kafka and the registry is not running; leave running ones alone.

    ``kafka_version`` None keeps a running broker of any version, else starts the pinned
    default (3.9.1); an explicit version different from the running one is refused.
    ``registry_java`` overrides ``RENKEI_REGISTRY_JAVA_HOME`` / the search for a JDK 21+.
    """
    layout = StackLayout(settings.home)
    endpoints = StackEndpoints.from_settings(settings)
    endpoints.require_local()
    requested = KafkaVersion.parse(kafka_version) if kafka_version else None
    with stack_lock(layout.lock_file):
        kafka_java = registry_jdk = None
        if live_record(layout.pid_file(KAFKA)) is None:
            kafka_java = find_java(KAFKA_MIN_JAVA, purpose="Kafka")
        if live_record(layout.pid_file(REGISTRY)) is None:
            registry_jdk = find_registry_java(registry_java, minimum=REGISTRY_MIN_JAVA)
        kafka = _ensure_kafka(layout, endpoints, requested, kafka_java, progress, kafka_timeout)
        registry = _ensure_registry(layout, endpoints, registry_jdk, progress, registry_timeout)
    progress(f"logs: {layout.logs} (kafka.log, kafka.out, registry.log, maven-*.log)")
    return StackStatus((kafka, registry), layout.logs)


def stop_stack(
    settings: Settings,
    *,
    wipe: bool = False,
    progress: Progress = no_progress,
    term_timeout: float = 30.0,
) -> tuple[StopReport, ...]:
    """Stop the registry, then Kafka — only processes this stack started (pid + marker check).

    ``wipe`` then deletes ``data/`` (every Kafka version's data, hence the registry's schemas).
    """
    layout = StackLayout(settings.home)
    endpoints = StackEndpoints.from_settings(settings)
    addresses = {
        REGISTRY: (endpoints.registry_host, endpoints.registry_port),
        KAFKA: (endpoints.kafka_host, endpoints.kafka_port),
    }
    reports = []
    with stack_lock(layout.lock_file):
        for name in (REGISTRY, KAFKA):
            pid_file = layout.pid_file(name)
            record = read_pid_record(pid_file)
            if record is None:
                host, port = addresses[name]
                other = port_in_use(host, port)
                detail = f"something else listens on {host}:{port}; left alone" if other else ""
                reports.append(StopReport(name, "not started", None, detail))
                progress(
                    f"{name}: not started by `renkei stack`" + (f" ({detail})" if other else "")
                )
                continue
            outcome = stop_process(record, term_timeout=term_timeout)
            pid_file.unlink(missing_ok=True)
            reports.append(StopReport(name, outcome, record.pid, ""))
            progress(f"{name} {record.version}: {outcome} (pid {record.pid})")
        if wipe:
            shutil.rmtree(layout.data, ignore_errors=True)
            for cluster_id in layout.conf.glob("kafka-*/cluster.id"):
                cluster_id.unlink()
            progress(f"wiped {layout.data} (Kafka data, including the registry's schemas)")
    return tuple(reports)
