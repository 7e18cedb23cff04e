"""The local stack as a whole: bring it up idempotently, stop only what it started.

:func:`ensure_stack_up` phases:

1. read the addresses from settings (loopback only) and the requested Kafka version;
2. find the Java runtimes needed (fails before any download if the registry's JDK is missing);
3. Kafka: leave ours alone if it runs (refuse a different version), refuse a port taken by a
   process we did not start, else fetch/format/start it and wait for a Metadata answer;
4. the registry likewise, after Kafka (it stores schemas in a Kafka topic).

The secure stack (``secure=True`` or RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL) first makes the
TLS files and the admin password of the home (:mod:`renkei.stack.secure`), then starts the same
two servers with SASL_SSL, the authorizer, and the registry logged in as the admin.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from renkei.errors import StackError
from renkei.settings import Settings
from renkei.stack.endpoints import SECURE_SCHEME, StackEndpoints
from renkei.stack.java import JavaRuntime, find_java, find_registry_java
from renkei.stack.kafka_probe import port_in_use
from renkei.stack.kafka_server import KAFKA, kafka_ready, start_kafka
from renkei.stack.layout import StackLayout
from renkei.stack.processes import (
    PidRecord,
    StopOutcome,
    live_record,
    marker_args,
    read_pid_record,
    stack_lock,
    start_server,
    stop_process,
    wait_until_ready,
)
from renkei.stack.registry_proxy import REGISTRY_PROXY, SCHEMA_PRINCIPAL
from renkei.stack.registry_server import REGISTRY, probe_registry, start_registry
from renkei.stack.reporting import Progress, no_progress
from renkei.stack.secure import BrokerSecurity, ensure_broker_security, password_file
from renkei.stack.status import ServerStatus, StackStatus
from renkei.stack.versions import (
    APICURIO_VERSION,
    DEFAULT_KAFKA_VERSION,
    KAFKA_MIN_JAVA,
    REGISTRY_MIN_JAVA,
    KafkaVersion,
)


@dataclass(frozen=True)
class StopReport:
    """What ``renkei stack down`` did to one server."""

    name: str
    outcome: StopOutcome | Literal["not started"]
    pid: int | None
    detail: str


def _port_taken(host: str, port: int) -> bool:
    """Still taken after a moment: a server stopped a second ago may not have closed it yet."""
    for _ in range(3):
        if not port_in_use(host, port):
            return False
        time.sleep(0.5)
    return True


def _refuse_other_address(name: str, record: PidRecord, address: str) -> None:
    if record.address != address and SECURE_SCHEME in (record.address + address):
        running = "secure" if record.address.startswith(SECURE_SCHEME) else "plain"
        raise StackError(
            f"`renkei stack` runs the {running} {name} here (pid {record.pid}, {record.address}); "
            "the secure and the plain stack need separate RENKEI_HOMEs and ports"
        )
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
    security: BrokerSecurity | None,
) -> ServerStatus:
    record = live_record(layout.pid_file(KAFKA))
    if record is not None:
        _refuse_other_address(KAFKA, record, endpoints.kafka_address)
        if requested is not None and str(requested) != record.version:
            raise StackError(
                f"Kafka {record.version} is running (pid {record.pid}, started by `renkei stack`);"
                f" run `renkei stack down` first to switch to Kafka {requested}"
            )
        wait_until_ready(
            lambda: kafka_ready(endpoints, security),
            what=f"kafka {record.version}",
            record=record,
            process=None,
            timeout=timeout,
            logs=[layout.kafka_out, layout.kafka_log],
            progress=progress,
        )
        note = ""
        if requested is None and record.version != DEFAULT_KAFKA_VERSION:
            note = f"; the pinned default is {DEFAULT_KAFKA_VERSION}: `down`, then `up` to switch"
        progress(
            f"kafka {record.version}: already running on {record.address} (pid {record.pid}){note}"
        )
        return ServerStatus(
            KAFKA, True, record.version, record.address, record.pid, "already running"
        )
    _refuse_taken_ports(
        endpoints.kafka_host,
        (endpoints.kafka_port, endpoints.controller_port),
        "another Kafka?",
        "set RENKEI_KAFKA_BOOTSTRAP to a free port (the controller uses the next one)",
    )
    if java is None:
        raise StackError("kafka stopped while `renkei stack up` looked at it; run it again")
    version = requested or KafkaVersion.parse(DEFAULT_KAFKA_VERSION)
    record, waited = start_kafka(
        layout, version, endpoints, java, progress, timeout=timeout, security=security
    )
    progress(f"kafka {version}: up in {waited:.1f} s (pid {record.pid})")
    return ServerStatus(
        KAFKA, True, str(version), record.address, record.pid, f"started in {waited:.1f} s"
    )


def _refuse_taken_ports(host: str, ports: tuple[int, ...], guess: str, remedy: str) -> None:
    """StackError if a process this stack did not start listens on one of ``ports``."""
    for port in ports:
        if _port_taken(host, port):
            raise StackError(
                f"{host}:{port} is taken by a process `renkei stack` did not start ({guess}); "
                f"stop it first, or {remedy}"
            )


def _ensure_registry_proxy(
    layout: StackLayout, endpoints: StackEndpoints, progress: Progress, timeout: float
) -> ServerStatus:
    """Start the proxy on the registry URL's port (secure stack), forwarding to Apicurio on the
    port above; schema changes need the schema principal's password (0600 file)."""
    record = live_record(layout.pid_file(REGISTRY_PROXY))
    if record is not None:
        _refuse_other_address(REGISTRY_PROXY, record, endpoints.registry_url)
        progress(f"registry proxy: already running on {record.address} (pid {record.pid})")
        return ServerStatus(
            REGISTRY_PROXY, True, "-", record.address, record.pid, "already running"
        )
    _refuse_taken_ports(
        endpoints.registry_host,
        (endpoints.registry_port,),
        "another registry?",
        "set RENKEI_SCHEMA_REGISTRY_URL to a free port (the registry itself uses port + 1)",
    )
    secret = password_file(layout.home, SCHEMA_PRINCIPAL)
    command = [
        sys.executable,
        "-c",  # not -m: renkei.stack imports the module first, and runpy would warn
        "from renkei.stack.registry_proxy import main; main()",
        "--listen",
        f"{endpoints.registry_host}:{endpoints.registry_port}",
        "--upstream",
        endpoints.registry_upstream,
        "--password-file",
        f"{SCHEMA_PRINCIPAL}={secret}",
        *("--" + marker.removeprefix("-D") for marker in marker_args(REGISTRY_PROXY, layout.home)),
    ]
    log = layout.logs / f"{REGISTRY_PROXY}.log"
    record, waited = start_server(
        server=REGISTRY_PROXY,
        version="-",
        address=endpoints.registry_url,
        command=command,
        cwd=layout.home,
        out_log=log,
        server_log=log,
        pid_file=layout.pid_file(REGISTRY_PROXY),
        home=layout.home,
        ready=lambda: port_in_use(endpoints.registry_host, endpoints.registry_port),
        logs=[log],
        progress=progress,
        timeout=timeout,
    )
    progress(
        f"registry proxy: up in {waited:.1f} s (pid {record.pid}) on {endpoints.registry_url}; "
        f"schema changes only as {SCHEMA_PRINCIPAL}"
    )
    return ServerStatus(
        REGISTRY_PROXY, True, "-", record.address, record.pid, f"started in {waited:.1f} s"
    )


def _ensure_registry(
    layout: StackLayout,
    endpoints: StackEndpoints,
    java: JavaRuntime | None,
    progress: Progress,
    timeout: float,
    security: BrokerSecurity | None,
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
    _refuse_taken_ports(
        endpoints.registry_host,
        (endpoints.registry_bind_port, endpoints.registry_management_port),
        "another registry?",
        "set RENKEI_SCHEMA_REGISTRY_URL to a free port (management uses port + 1000; on the "
        "secure stack the registry itself uses port + 1, behind the proxy)",
    )
    if java is None:
        raise StackError("the registry stopped while `renkei stack up` looked at it; run it again")
    kafka_config = security.write_registry_config() if security else None
    record, waited = start_registry(
        layout,
        APICURIO_VERSION,
        endpoints,
        java,
        progress,
        timeout=timeout,
        kafka_config=kafka_config,
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
    secure: bool | None = None,
    cdc: bool = False,
) -> StackStatus:
    """Start whatever of Kafka and the registry is not running; leave running ones alone.

    ``cdc`` also starts the change-data-capture servers, PostgreSQL and Kafka Connect with
    Debezium (:mod:`renkei.stack.cdc_stack`).

    ``kafka_version`` None keeps a running broker of any version, else starts the pinned
    default (3.9.1); an explicit version different from the running one is refused.
    ``registry_java`` overrides ``RENKEI_REGISTRY_JAVA_HOME`` / the search for a JDK 21+.
    ``secure`` None follows ``settings.kafka_security_protocol``.
    """
    layout = StackLayout(settings.home)
    if secure is not None:
        protocol = "SASL_SSL" if secure else "PLAINTEXT"
        settings = settings.model_copy(update={"kafka_security_protocol": protocol})
    endpoints = StackEndpoints.from_settings(settings)
    endpoints.require_local()
    requested = KafkaVersion.parse(kafka_version) if kafka_version else None
    with stack_lock(layout.lock_file, progress=progress):
        kafka_java = registry_jdk = None
        if live_record(layout.pid_file(KAFKA)) is None:
            kafka_java = find_java(KAFKA_MIN_JAVA, purpose="Kafka")
        if live_record(layout.pid_file(REGISTRY)) is None:
            registry_jdk = find_registry_java(registry_java, minimum=REGISTRY_MIN_JAVA)
        security = ensure_broker_security(layout.home) if endpoints.secure else None
        kafka = _ensure_kafka(
            layout, endpoints, requested, kafka_java, progress, kafka_timeout, security
        )
        servers: tuple[ServerStatus, ...] = (kafka,)
        if security is not None:
            # first, so the registry's readiness is probed through it (reads pass)
            servers += (_ensure_registry_proxy(layout, endpoints, progress, registry_timeout),)
        registry = _ensure_registry(
            layout, endpoints, registry_jdk, progress, registry_timeout, security
        )
        servers += (registry,)
        if cdc:
            from renkei.stack.cdc_stack import ensure_cdc_up

            servers += ensure_cdc_up(settings, layout, progress, registry_timeout)
    progress(f"logs: {layout.logs} (kafka.log, kafka.out, registry.log, maven-*.log)")
    return StackStatus(servers, layout.logs)


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
        REGISTRY: (endpoints.registry_host, endpoints.registry_bind_port),
        REGISTRY_PROXY: (endpoints.registry_host, endpoints.registry_port),
        KAFKA: (endpoints.kafka_host, endpoints.kafka_port),
    }
    reports = []
    with stack_lock(layout.lock_file, progress=progress):
        from renkei.stack.cdc_stack import stop_cdc

        for name, outcome, pid in stop_cdc(layout, progress, term_timeout):
            reports.append(StopReport(name, outcome, pid, ""))
        for name in (REGISTRY, REGISTRY_PROXY, KAFKA):
            pid_file = layout.pid_file(name)
            record = read_pid_record(pid_file)
            if record is None and name == REGISTRY_PROXY:
                continue  # only the secure stack has one
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
            from renkei.stack.postgres_server import server_root

            shutil.rmtree(layout.data, ignore_errors=True)
            # the department database's data, when it had to live outside the home
            if Path("/var/lib/postgresql").is_dir():
                elsewhere = server_root(layout)
                if elsewhere is not None:
                    shutil.rmtree(elsewhere, ignore_errors=True)
            for cluster_id in layout.conf.glob("kafka-*/cluster.id"):
                cluster_id.unlink()
            progress(f"wiped {layout.data} (Kafka data, including the registry's schemas)")
    return tuple(reports)
