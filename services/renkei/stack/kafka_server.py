"""The Kafka broker of the local stack: fetch its jars, write its config, format, start.

Phases of :func:`start_kafka` (called by the manager when no broker of ours runs):

1. :func:`ensure_kafka_libs` — Maven copies ``kafka_2.13`` + ``kafka-tools`` and their runtime
   dependencies into ``downloads/kafka-<v>/libs`` (once per version; ``.complete`` marks it).
2. :func:`prepare_kafka` — server.properties and the logging config under ``conf/kafka-<v>``;
   ``StorageTool format`` of ``data/kafka-<v>`` the first time.
3. launch ``kafka.Kafka`` detached, record its pid, wait for a Metadata answer.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from renkei.errors import StackError
from renkei.stack.endpoints import StackEndpoints
from renkei.stack.java import JavaRuntime
from renkei.stack.kafka_config import (
    SERVER_PROPERTIES,
    logging_config,
    logging_jvm_flag,
    new_cluster_id,
    render_server_properties,
)
from renkei.stack.kafka_probe import probe_kafka
from renkei.stack.layout import StackLayout
from renkei.stack.maven import run_maven, staged_pom
from renkei.stack.processes import (
    PidRecord,
    marker_args,
    now_iso,
    start_server,
)
from renkei.stack.reporting import BANNER, Progress, with_excerpt
from renkei.stack.secure import SECURE_MARKER, BrokerSecurity, secure_kafka_ready
from renkei.stack.versions import KafkaVersion

KAFKA = "kafka"
KAFKA_HEAP = "-Xmx1g"
COMPLETE = ".complete"


def ensure_kafka_libs(layout: StackLayout, version: KafkaVersion, progress: Progress) -> Path:
    """The folder of jars for ``version``, fetched with Maven unless already complete."""
    build = layout.kafka_build(str(version))
    libs = layout.kafka_libs(str(version))
    if (build / COMPLETE).is_file() and (libs / f"kafka_2.13-{version}.jar").is_file():
        return libs
    log = layout.maven_log(KAFKA, str(version))
    progress(f"kafka {version}: fetching from Maven Central (Maven log: {log})")
    if libs.exists():
        shutil.rmtree(libs)  # a half-copied folder from an interrupted run
    args = ["-f", str(staged_pom(KAFKA, build)), f"-Dkafka.version={version}", f"-Dlibs.dir={libs}"]
    if version.maven_profiles:
        args.append("-P" + ",".join(version.maven_profiles))
    args.append("dependency:copy-dependencies")
    try:
        run_maven(args, label=f"kafka {version}", log_path=log, progress=progress, cwd=build)
    except StackError:
        shutil.rmtree(build, ignore_errors=True)  # e.g. an unpublished version: leave no trace
        raise
    if not (libs / f"kafka_2.13-{version}.jar").is_file():
        raise StackError(with_excerpt(f"Maven ran but kafka_2.13-{version}.jar is missing", log))
    (build / COMPLETE).write_text(now_iso() + "\n", encoding="utf-8")
    return libs


def _classpath(libs: Path) -> str:
    return f"{libs}/*"  # the JVM expands the wildcard itself


def _refuse_other_mode(conf: Path, data: Path, security: BrokerSecurity | None) -> None:
    """A data folder formatted for one mode is not started in the other (users, ACLs)."""
    if not (data / "meta.properties").is_file():
        return
    formatted_secure = (conf / SECURE_MARKER).is_file()
    if formatted_secure != (security is not None):
        was, asked = ("secure", "plain") if formatted_secure else ("plain", "secure")
        raise StackError(
            f"{data} was formatted for the {was} stack; the {asked} stack needs its own "
            "RENKEI_HOME (or `renkei stack down --wipe` this one first)"
        )


def _write_properties(path: Path, text: str, *, private: bool) -> None:
    if private:  # holds the admin's JAAS line
        path.unlink(missing_ok=True)
        path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")


def prepare_kafka(
    layout: StackLayout,
    version: KafkaVersion,
    endpoints: StackEndpoints,
    java: JavaRuntime,
    libs: Path,
    progress: Progress,
    security: BrokerSecurity | None = None,
) -> tuple[Path, str]:
    """Write the config files, format the data folder if new; (server.properties, log flag)."""
    conf = layout.kafka_conf(str(version))
    data = layout.kafka_data(str(version))
    _refuse_other_mode(conf, data, security)
    conf.mkdir(parents=True, exist_ok=True)
    layout.logs.mkdir(parents=True, exist_ok=True)
    properties = conf / SERVER_PROPERTIES
    _write_properties(
        properties,
        render_server_properties(version, endpoints, data, security),
        private=security is not None,
    )
    log_name, log_text = logging_config(version, layout.kafka_log)
    (conf / log_name).write_text(log_text, encoding="utf-8")
    log_flag = logging_jvm_flag(version, conf / log_name)
    if (data / "meta.properties").is_file():
        return properties, log_flag
    cluster_file = conf / "cluster.id"
    if not cluster_file.is_file():
        cluster_file.write_text(new_cluster_id() + "\n", encoding="utf-8")
    cluster_id = cluster_file.read_text(encoding="utf-8").strip()
    progress(f"kafka {version}: formatting {data} (cluster {cluster_id})")
    extra = security.format_args() if security else []
    format_storage(java, libs, properties, log_flag, cluster_id, data, layout.kafka_out, extra)
    if security is not None:
        (conf / SECURE_MARKER).write_text("SASL_SSL\n", encoding="utf-8")
    return properties, log_flag


def format_storage(
    java: JavaRuntime,
    libs: Path,
    properties: Path,
    log_flag: str,
    cluster_id: str,
    data: Path,
    out_log: Path,
    extra_args: list[str] | tuple[str, ...] = (),
) -> None:
    """``StorageTool format`` of ``data`` for ``cluster_id`` (output appended to ``out_log``);
    ``extra_args``: e.g. the SCRAM users of the secure stack."""
    data.mkdir(parents=True, exist_ok=True)
    command = [
        str(java.executable),
        log_flag,
        "-cp",
        _classpath(libs),
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(properties),
        "--ignore-formatted",
        *extra_args,
    ]
    with out_log.open("ab") as out:
        out.write(f"\n{BANNER}{now_iso()} renkei stack formats {data}\n".encode())
        out.flush()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=180)
    if done.returncode != 0:
        raise StackError(
            with_excerpt(f"formatting Kafka storage failed (exit {done.returncode})", out_log)
        )


def kafka_command(
    java: JavaRuntime,
    libs: Path,
    properties: Path,
    log_flag: str,
    home: Path,
    *,
    server: str = KAFKA,
    heap: str = KAFKA_HEAP,
) -> list[str]:
    """The broker's command line; the marker arguments let ``down`` recognise it."""
    return [
        str(java.executable),
        heap,
        "-XX:+ExitOnOutOfMemoryError",
        *marker_args(server, home),
        log_flag,
        "-cp",
        _classpath(libs),
        "kafka.Kafka",
        str(properties),
    ]


def kafka_ready(endpoints: StackEndpoints, security: BrokerSecurity | None = None) -> bool:
    """True once the broker answers Metadata with itself registered (as the admin if secure)."""
    if security is not None:
        return secure_kafka_ready(endpoints, security)
    try:
        return probe_kafka(endpoints.kafka_host, endpoints.kafka_port, timeout=2.0).ready
    except StackError:
        return False


def start_kafka(
    layout: StackLayout,
    version: KafkaVersion,
    endpoints: StackEndpoints,
    java: JavaRuntime,
    progress: Progress,
    *,
    timeout: float,
    security: BrokerSecurity | None = None,
) -> tuple[PidRecord, float]:
    """Fetch, configure, launch and wait for the broker; (its pid record, seconds to ready)."""
    libs = ensure_kafka_libs(layout, version, progress)
    properties, log_flag = prepare_kafka(layout, version, endpoints, java, libs, progress, security)
    progress(f"kafka {version}: starting on {endpoints.kafka_address} (Java {java.major})")
    return start_server(
        server=KAFKA,
        version=str(version),
        address=endpoints.kafka_address,
        command=kafka_command(java, libs, properties, log_flag, layout.home),
        cwd=layout.kafka_conf(str(version)),
        out_log=layout.kafka_out,
        server_log=layout.kafka_log,
        pid_file=layout.pid_file(KAFKA),
        home=layout.home,
        ready=lambda: kafka_ready(endpoints, security),
        logs=[layout.kafka_out, layout.kafka_log],
        progress=progress,
        timeout=timeout,
    )
