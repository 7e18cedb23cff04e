"""Where the local stack keeps its files under ``settings.home`` (default ``<repo>/.renkei``).

::

    downloads/kafka-<v>/libs/       Kafka jars resolved by Maven (one folder per version)
    downloads/apicurio-<v>/app/     the unpacked Apicurio Registry assembly
    conf/kafka-<v>/                 server.properties and the log4j configuration
    data/kafka-<v>/                 broker data; the registry's schemas live in a Kafka topic
    logs/                           kafka.log, kafka.out, registry.log, maven-*.log
    run/                            pid files (JSON) and the lock taken by up/down

Kafka data is kept per version: a data folder formatted by one release is not reliably read
by another (metadata version), so switching versions starts from an empty cluster instead of
risking a broken one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StackLayout:
    """Paths of one stack home; creating folders is left to the code that writes them."""

    home: Path

    @property
    def downloads(self) -> Path:
        return self.home / "downloads"

    @property
    def conf(self) -> Path:
        return self.home / "conf"

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    def kafka_build(self, version: str) -> Path:
        """Maven's working folder for one Kafka version (a copy of the pom, its target/)."""
        return self.downloads / f"kafka-{version}"

    def kafka_libs(self, version: str) -> Path:
        return self.kafka_build(version) / "libs"

    def kafka_conf(self, version: str) -> Path:
        return self.conf / f"kafka-{version}"

    def kafka_data(self, version: str) -> Path:
        return self.data / f"kafka-{version}"

    def registry_build(self, version: str) -> Path:
        """Maven's working folder for one Apicurio version (pom copy, unpack markers)."""
        return self.downloads / f"apicurio-{version}"

    def registry_app(self, version: str) -> Path:
        """The unpacked assembly; holds ``quarkus-run.jar``."""
        return self.registry_build(version) / "app"

    @property
    def kafka_log(self) -> Path:
        """The broker's own log (written by log4j through our configuration)."""
        return self.logs / "kafka.log"

    @property
    def kafka_out(self) -> Path:
        """The broker JVM's stdout/stderr: crashes before logging starts end up here."""
        return self.logs / "kafka.out"

    @property
    def registry_log(self) -> Path:
        return self.logs / "registry.log"

    def maven_log(self, what: str, version: str) -> Path:
        return self.logs / f"maven-{what}-{version}.log"

    def pid_file(self, server: str) -> Path:
        return self.run / f"{server}.json"

    @property
    def lock_file(self) -> Path:
        return self.run / "stack.lock"
