"""The change-data-capture part of the local stack (``renkei stack up --cdc``): a department
database (PostgreSQL, Debian's packages) and Kafka Connect with Debezium's PostgreSQL connector.

:func:`ensure_cdc_up` phases (after Kafka and the registry are up, under the stack lock):

1. PostgreSQL: leave ours alone if it runs, else initdb (first time) and start it; then create
   (idempotently) the connector's user, the department database and its legacy table
   (``deploy/cdc/jumin-kiroku.sql``, REPLICA IDENTITY FULL, a publication);
2. Kafka Connect: leave ours alone if it runs, else fetch the Debezium plugin and start a
   distributed worker from the broker's own Kafka release.

Only the plain stack: a Connect worker on the secure stack would need its own SASL user and
ACLs (not built yet; docs/cdc-input.md says how a production worker is configured).
"""

from __future__ import annotations

from renkei.errors import StackError
from renkei.settings import Settings
from renkei.stack.connect_server import CONNECT, connect_ready, start_connect
from renkei.stack.java import find_java
from renkei.stack.kafka_probe import port_in_use
from renkei.stack.kafka_server import KAFKA
from renkei.stack.layout import StackLayout
from renkei.stack.postgres_server import (
    POSTGRES,
    prepare_department_database,
    start_postgres,
    stop_postgres,
)
from renkei.stack.processes import (
    PidRecord,
    StopOutcome,
    live_record,
    read_pid_record,
    stop_process,
)
from renkei.stack.reporting import Progress
from renkei.stack.status import ServerStatus
from renkei.stack.versions import KAFKA_MIN_JAVA, KafkaVersion

CDC_SERVERS = (POSTGRES, CONNECT)


def ensure_cdc_up(
    settings: Settings, layout: StackLayout, progress: Progress, timeout: float
) -> tuple[ServerStatus, ...]:
    """Start whatever of PostgreSQL and Kafka Connect is not running (see module docstring)."""
    if settings.kafka_security_protocol != "PLAINTEXT":
        raise StackError("--cdc runs with the plain local stack only (not with --secure)")
    kafka = live_record(layout.pid_file(KAFKA))
    if kafka is None:
        raise StackError("Kafka of `renkei stack` is not running: the CDC servers need it")
    statuses = [_ensure_postgres(settings, layout, progress)]
    prepare_department_database(settings, layout)
    statuses.append(_ensure_connect(settings, layout, kafka, progress, timeout))
    return tuple(statuses)


def _ensure_postgres(settings: Settings, layout: StackLayout, progress: Progress) -> ServerStatus:
    address = f"127.0.0.1:{settings.cdc_database_port}"
    record = live_record(layout.pid_file(POSTGRES))
    if record is not None:
        if record.address != address:
            raise StackError(
                f"`renkei stack` runs PostgreSQL on {record.address}; the settings ask for "
                f"{address}: `renkei stack down` first"
            )
        progress(f"postgres {record.version}: already running on {address} (pid {record.pid})")
        return ServerStatus(POSTGRES, True, record.version, address, record.pid, "already running")
    if port_in_use("127.0.0.1", settings.cdc_database_port):
        raise StackError(
            f"{address} is taken by a process `renkei stack` did not start; stop it, or set "
            "RENKEI_CDC_DATABASE_PORT to a free port"
        )
    record = start_postgres(settings, layout, progress)
    progress(f"postgres {record.version}: up (pid {record.pid})")
    return ServerStatus(POSTGRES, True, record.version, address, record.pid, "started")


def _ensure_connect(
    settings: Settings,
    layout: StackLayout,
    kafka: PidRecord,
    progress: Progress,
    timeout: float,
) -> ServerStatus:
    record = live_record(layout.pid_file(CONNECT))
    if record is not None:
        progress(f"connect {record.version}: already running on {record.address}")
        return ServerStatus(CONNECT, True, record.version, record.address, record.pid, "running")
    java = find_java(KAFKA_MIN_JAVA, purpose="Kafka Connect")
    version = KafkaVersion.parse(kafka.version)
    record, waited = start_connect(settings, layout, version, java, progress, timeout=timeout)
    progress(f"connect {version}: up in {waited:.1f} s (pid {record.pid})")
    return ServerStatus(
        CONNECT, True, str(version), record.address, record.pid, f"started in {waited:.1f} s"
    )


def stop_cdc(
    layout: StackLayout, progress: Progress, term_timeout: float
) -> list[tuple[str, StopOutcome, int]]:
    """Stop Kafka Connect, then PostgreSQL, if `renkei stack` started them; (name, outcome,
    pid) of each that had a pid file."""
    stopped: list[tuple[str, StopOutcome, int]] = []
    for name in CDC_SERVERS[::-1]:
        pid_file = layout.pid_file(name)
        record = read_pid_record(pid_file)
        if record is None:
            continue
        if name == POSTGRES and live_record(pid_file) is not None:
            stop_postgres(layout, record)
            outcome: StopOutcome = "terminated"
        else:
            outcome = stop_process(record, term_timeout=term_timeout)
        pid_file.unlink(missing_ok=True)
        progress(f"{name} {record.version}: {outcome} (pid {record.pid})")
        stopped.append((name, outcome, record.pid))
    return stopped


def cdc_status(settings: Settings, layout: StackLayout) -> tuple[ServerStatus, ...]:
    """The CDC servers, when `renkei stack` has started them (nothing otherwise)."""
    found = []
    postgres = read_pid_record(layout.pid_file(POSTGRES))
    if postgres is not None:
        up = live_record(layout.pid_file(POSTGRES)) is not None and port_in_use(
            "127.0.0.1", settings.cdc_database_port
        )
        detail = "running" if up else "not running"
        found.append(
            ServerStatus(POSTGRES, up, postgres.version, postgres.address, postgres.pid, detail)
        )
    connect = read_pid_record(layout.pid_file(CONNECT))
    if connect is not None:
        up = connect_ready(settings)
        detail = "running" if up else "does not answer (or lacks the Debezium plugin)"
        found.append(
            ServerStatus(CONNECT, up, connect.version, connect.address, connect.pid, detail)
        )
    return tuple(found)
