"""Apicurio Registry for the local stack: fetch the assembly, start it, ask it how it is.

Storage is ``kafkasql``: schemas live in the ``_renkei_schemas`` topic, so they survive
restarts together with the Kafka data (and ``down --wipe`` removes both). Kafka must therefore
answer before the registry starts. The registry needs Java 21+ (see :mod:`renkei.stack.java`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx

from renkei.errors import StackError
from renkei.stack.endpoints import (
    LOOPBACK_HOST,
    REGISTRY_TOPIC,
    StackEndpoints,
)
from renkei.stack.java import JavaRuntime
from renkei.stack.layout import StackLayout
from renkei.stack.maven import run_maven, staged_pom
from renkei.stack.processes import (
    PidRecord,
    marker_args,
    now_iso,
    start_server,
)
from renkei.stack.reporting import Progress, with_excerpt

REGISTRY = "registry"
REGISTRY_HEAP = "-Xmx512m"
RUNNER_JAR = "quarkus-run.jar"
COMPLETE = ".complete"


@dataclass(frozen=True)
class RegistryProbe:
    """Whether the Confluent-compatible API answers, and the version Apicurio reports."""

    ready: bool
    version: str | None
    detail: str


def ensure_registry_app(layout: StackLayout, version: str, progress: Progress) -> Path:
    """The unpacked assembly for ``version`` (holding quarkus-run.jar), fetched if needed."""
    build = layout.registry_build(version)
    app = layout.registry_app(version)
    if (build / COMPLETE).is_file() and (app / RUNNER_JAR).is_file():
        return app
    log = layout.maven_log("apicurio", version)
    progress(
        f"registry {version}: fetching Apicurio Registry from Maven Central, about 160 MB "
        f"the first time (Maven log: {log})"
    )
    for stale in (app, build / "target"):  # target/ holds the unpack markers
        if stale.exists():
            shutil.rmtree(stale)
    args = [
        "-f",
        str(staged_pom("apicurio", build)),
        f"-Dapicurio.version={version}",
        f"-Dunpack.dir={app}",
        "dependency:unpack-dependencies",
    ]
    run_maven(args, label=f"registry {version}", log_path=log, progress=progress, cwd=build)
    if not (app / RUNNER_JAR).is_file():
        raise StackError(with_excerpt(f"Maven ran but {app / RUNNER_JAR} is missing", log))
    (build / COMPLETE).write_text(now_iso() + "\n", encoding="utf-8")
    return app


def registry_command(
    java: JavaRuntime,
    app: Path,
    endpoints: StackEndpoints,
    home: Path,
    kafka_config: Path | None = None,
    *,
    topic: str = REGISTRY_TOPIC,
) -> list[str]:
    """The registry's command line (Quarkus settings as system properties).

    ``kafka_config`` (secure stack) is a 0600 properties file with the kafkasql clients'
    SASL_SSL settings, so the super user's password is never on a command line. Schemas are
    kept in Kafka ``topic`` (a second registry on the same broker needs a topic of its own).
    """
    extra = [f"-Dquarkus.config.locations={kafka_config.as_uri()}"] if kafka_config else []
    return [
        str(java.executable),
        REGISTRY_HEAP,
        *marker_args(REGISTRY, home),
        f"-Dquarkus.http.port={endpoints.registry_bind_port}",
        f"-Dquarkus.http.host={LOOPBACK_HOST}",
        f"-Dquarkus.management.host={LOOPBACK_HOST}",
        f"-Dquarkus.management.port={endpoints.registry_management_port}",
        "-Dapicurio.storage.kind=kafkasql",
        f"-Dapicurio.kafkasql.bootstrap.servers={endpoints.kafka_bootstrap}",
        f"-Dapicurio.kafkasql.topic={topic}",
        # One log line per HTTP request would make registry.log grow with every test run.
        "-Dquarkus.http.access-log.enabled=false",
        *extra,
        "-jar",
        str(app / RUNNER_JAR),
    ]


def probe_registry(endpoints: StackEndpoints, *, timeout: float = 3.0) -> RegistryProbe:
    """GET ``<ccompat>/subjects`` and the storage readiness (ready only when both answer 200),
    and Apicurio's system info (version)."""
    try:
        with httpx.Client(timeout=timeout) as client:
            ready = client.get(endpoints.registry_ready_url)
            if ready.status_code != 200:
                return RegistryProbe(False, None, f"HTTP {ready.status_code} from /subjects")
            loaded = client.get(endpoints.registry_health_url)
            if loaded.status_code != 200:
                return RegistryProbe(False, None, "storage still loading (/health/ready)")
            info = client.get(endpoints.registry_info_url)
            version = info.json().get("version") if info.status_code == 200 else None
    except httpx.HTTPError as exc:
        return RegistryProbe(False, None, str(exc) or type(exc).__name__)
    except ValueError:
        version = None
    return RegistryProbe(True, version if isinstance(version, str) else None, "answers")


def start_registry(
    layout: StackLayout,
    version: str,
    endpoints: StackEndpoints,
    java: JavaRuntime,
    progress: Progress,
    *,
    timeout: float,
    kafka_config: Path | None = None,
) -> tuple[PidRecord, float]:
    """Fetch, launch and wait for the registry; (its pid record, seconds to ready)."""
    app = ensure_registry_app(layout, version, progress)
    progress(
        f"registry {version}: starting on {endpoints.registry_upstream} "
        f"(Java {java.major} from {java.home}); takes ~20 s"
    )
    env = dict(os.environ)
    env["JAVA_HOME"] = str(java.home)
    env["PATH"] = f"{java.executable.parent}{os.pathsep}{env.get('PATH', '')}"
    return start_server(
        server=REGISTRY,
        version=version,
        address=endpoints.registry_url,
        command=registry_command(java, app, endpoints, layout.home, kafka_config),
        cwd=app,
        out_log=layout.registry_log,
        server_log=layout.registry_log,
        pid_file=layout.pid_file(REGISTRY),
        home=layout.home,
        ready=lambda: probe_registry(endpoints, timeout=2.0).ready,
        logs=[layout.registry_log],
        progress=progress,
        timeout=timeout,
        env=env,
    )
