"""Kafka Connect with Debezium's PostgreSQL connector, for change data capture.

Phases of :func:`start_connect` (``renkei stack up --cdc``, after Kafka is up):

1. :func:`ensure_debezium_plugin` — Maven copies ``debezium-connector-postgres`` and its
   dependencies (the JDBC driver, …) from Maven Central into
   ``downloads/debezium-<v>/plugins/debezium-connector-postgres`` (once; ``.complete`` marks it).
   Kafka Connect itself is in the broker's jars (``connect-runtime``, ``connect-json``): the
   worker runs from the same Kafka release as the broker.
2. ``conf/connect/connect-distributed.properties``: a distributed worker (its connector
   configurations and offsets live in ``_renkei_connect_*`` topics, so connectors survive a
   restart), JsonConverter with schemas, REST on ``RENKEI_CONNECT_URL``, the file config
   provider (a connector names the password file, never the password).
3. launch ``ConnectDistributed`` detached; ready when ``GET /connector-plugins`` lists the
   PostgreSQL connector.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import httpx

from renkei.errors import StackError
from renkei.settings import Settings
from renkei.stack.java import JavaRuntime
from renkei.stack.kafka_config import logging_config, logging_jvm_flag
from renkei.stack.layout import StackLayout
from renkei.stack.maven import run_maven, staged_pom
from renkei.stack.processes import PidRecord, marker_args, now_iso, start_server
from renkei.stack.reporting import Progress, with_excerpt
from renkei.stack.versions import KafkaVersion

CONNECT = "connect"
DEBEZIUM = "debezium"
DEBEZIUM_VERSION = "3.6.1.Final"
"""Debezium's PostgreSQL connector, from Maven Central (3.6.x needs Java 17)."""
POSTGRES_CONNECTOR = "io.debezium.connector.postgresql.PostgresConnector"
CONNECT_HEAP = "-Xmx512m"
COMPLETE = ".complete"
INTERNAL_TOPICS = ("_renkei_connect_configs", "_renkei_connect_offsets", "_renkei_connect_status")


def debezium_build(layout: StackLayout) -> Path:
    return layout.downloads / f"debezium-{DEBEZIUM_VERSION}"


def plugin_path(layout: StackLayout) -> Path:
    """Kafka Connect's ``plugin.path``: one folder per plugin below it."""
    return debezium_build(layout) / "plugins"


def ensure_debezium_plugin(layout: StackLayout, progress: Progress) -> Path:
    """The plugin folder, fetched with Maven unless already complete."""
    build = debezium_build(layout)
    folder = plugin_path(layout) / "debezium-connector-postgres"
    jar = folder / f"debezium-connector-postgres-{DEBEZIUM_VERSION}.jar"
    if (build / COMPLETE).is_file() and jar.is_file():
        return folder
    log = layout.maven_log(DEBEZIUM, DEBEZIUM_VERSION)
    progress(f"debezium {DEBEZIUM_VERSION}: fetching from Maven Central (Maven log: {log})")
    if folder.exists():
        shutil.rmtree(folder)
    args = ["-f", str(staged_pom(DEBEZIUM, build)), f"-Ddebezium.version={DEBEZIUM_VERSION}"]
    args += [f"-Dplugin.dir={folder}", "dependency:copy-dependencies"]
    try:
        run_maven(args, label=f"debezium {DEBEZIUM_VERSION}", log_path=log, progress=progress)
    except StackError:
        shutil.rmtree(build, ignore_errors=True)
        raise
    if not jar.is_file():
        raise StackError(with_excerpt(f"Maven ran but {jar.name} is missing", log))
    (build / COMPLETE).write_text(now_iso() + "\n", encoding="utf-8")
    return folder


def connect_address(settings: Settings) -> tuple[str, int]:
    """(host, port) of ``RENKEI_CONNECT_URL``; the local stack listens on loopback only."""
    parsed = urlparse(settings.connect_url)
    if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
        raise StackError(
            f"RENKEI_CONNECT_URL must look like http://127.0.0.1:8083, got {settings.connect_url!r}"
        )
    return parsed.hostname, parsed.port


def render_worker_properties(settings: Settings, layout: StackLayout) -> str:
    """connect-distributed.properties of the local worker."""
    host, port = connect_address(settings)
    values = [
        ("bootstrap.servers", settings.kafka_bootstrap),
        ("group.id", "renkei-connect"),
        ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("key.converter.schemas.enable", "true"),
        ("value.converter.schemas.enable", "true"),
        ("config.storage.topic", INTERNAL_TOPICS[0]),
        ("offset.storage.topic", INTERNAL_TOPICS[1]),
        ("status.storage.topic", INTERNAL_TOPICS[2]),
        ("config.storage.replication.factor", str(settings.topic_replication_factor)),
        ("offset.storage.replication.factor", str(settings.topic_replication_factor)),
        ("status.storage.replication.factor", str(settings.topic_replication_factor)),
        ("offset.storage.partitions", "5"),
        ("status.storage.partitions", "1"),
        ("offset.flush.interval.ms", "1000"),
        ("listeners", f"http://{host}:{port}"),
        ("rest.advertised.host.name", host),
        ("rest.advertised.port", str(port)),
        ("plugin.path", str(plugin_path(layout))),
        ("config.providers", "file"),
        (
            "config.providers.file.class",
            "org.apache.kafka.common.config.provider.FileConfigProvider",
        ),
        ("topic.creation.enable", "true"),
    ]
    header = "# Written by renkei.stack.connect_server (Kafka Connect for change data capture).\n"
    return header + "".join(f"{key}={value}\n" for key, value in values)


def connect_ready(settings: Settings) -> bool:
    """True once the worker's REST API lists Debezium's PostgreSQL connector."""
    try:
        response = httpx.get(f"{settings.connect_url}/connector-plugins", timeout=3.0)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    return any(plugin.get("class") == POSTGRES_CONNECTOR for plugin in response.json())


def start_connect(
    settings: Settings,
    layout: StackLayout,
    kafka_version: KafkaVersion,
    java: JavaRuntime,
    progress: Progress,
    *,
    timeout: float,
) -> tuple[PidRecord, float]:
    """Fetch the plugin, write the worker's config, launch it, wait for its REST API."""
    libs = layout.kafka_libs(str(kafka_version))
    if not (libs / f"kafka_2.13-{kafka_version}.jar").is_file():
        raise StackError(f"Kafka {kafka_version}'s jars are missing in {libs}: run the stack first")
    ensure_debezium_plugin(layout, progress)
    conf = layout.conf / CONNECT
    conf.mkdir(parents=True, exist_ok=True)
    layout.logs.mkdir(parents=True, exist_ok=True)
    properties = conf / "connect-distributed.properties"
    properties.write_text(render_worker_properties(settings, layout), encoding="utf-8")
    log = layout.logs / "connect.log"
    log_name, log_text = logging_config(kafka_version, log)
    (conf / log_name).write_text(log_text, encoding="utf-8")
    command = [
        str(java.executable),
        CONNECT_HEAP,
        "-XX:+ExitOnOutOfMemoryError",
        *marker_args(CONNECT, layout.home),
        logging_jvm_flag(kafka_version, conf / log_name),
        "-cp",
        f"{libs}/*",
        "org.apache.kafka.connect.cli.ConnectDistributed",
        str(properties),
    ]
    address = settings.connect_url
    progress(f"connect {kafka_version} + debezium {DEBEZIUM_VERSION}: starting on {address}")
    return start_server(
        server=CONNECT,
        version=str(kafka_version),
        address=address,
        command=command,
        cwd=conf,
        out_log=layout.logs / "connect.out",
        server_log=log,
        pid_file=layout.pid_file(CONNECT),
        home=layout.home,
        ready=lambda: connect_ready(settings),
        logs=[layout.logs / "connect.out", log],
        progress=progress,
        timeout=timeout,
    )
