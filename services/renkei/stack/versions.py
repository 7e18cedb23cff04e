"""Pinned versions of the local stack's servers and the parsing of version strings.

Kafka is chosen per run (``renkei stack up --kafka 4.1.1``); what differs between the 3.x and
4.x lines (logging backend, extra Maven profile, share-coordinator settings) is decided here so
the rest of the package asks a :class:`KafkaVersion` instead of comparing strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from renkei.errors import StackError

DEFAULT_KAFKA_VERSION = "3.9.1"
"""The broker the platform is developed and tested against (ARCHITECTURE.md, Local stack)."""

APICURIO_VERSION = "3.3.3"
"""Apicurio Registry, fetched as the ``apicurio-registry-app`` assembly from Maven Central."""

KAFKA_MIN_JAVA = 17
"""Kafka 4.x brokers need Java 17; 3.9 runs on it too."""

REGISTRY_MIN_JAVA = 21
"""Apicurio Registry 3.x is compiled for Java 21 (older JVMs: UnsupportedClassVersionError)."""

_KAFKA_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_JAVA_VERSION = re.compile(r'version\s*[=]?\s*"([^"]+)"', re.IGNORECASE)


@dataclass(frozen=True, order=True)
class KafkaVersion:
    """An Apache Kafka release ``X.Y.Z`` as published on Maven Central."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> KafkaVersion:
        """Parse ``"3.9.1"``; anything else (``"3.9"``, ``"4.1.1-rc1"``) is refused."""
        match = _KAFKA_VERSION.match(text.strip())
        if match is None:
            raise StackError(f"Kafka version must look like X.Y.Z (e.g. 3.9.1), got {text!r}")
        version = cls(*(int(part) for part in match.groups()))
        if version.major < 3:
            raise StackError(
                f"Kafka {version} has no KRaft mode the local stack can run; use 3.9.1 or 4.x"
            )
        return version

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def uses_log4j2(self) -> bool:
        """Kafka 4.0 moved from reload4j (log4j 1.x API) to log4j2."""
        return self.major >= 4

    @property
    def has_share_coordinator(self) -> bool:
        """4.1+ creates the share-group state topic, whose default replication factor is 3."""
        return (self.major, self.minor) >= (4, 1)

    @property
    def maven_profiles(self) -> tuple[str, ...]:
        """Profiles of deploy/maven/kafka/pom.xml to enable (``kafka4`` adds the slf4j binding)."""
        return ("kafka4",) if self.major >= 4 else ()


def parse_java_major(text: str) -> int:
    """The feature release of a JVM from ``java -version`` output or a JDK ``release`` file.

    ``openjdk version "17.0.15"`` → 17, ``JAVA_VERSION="25.0.3"`` → 25,
    ``java version "1.8.0_392"`` → 8, ``openjdk version "21-ea"`` → 21.
    """
    match = _JAVA_VERSION.search(text)
    if match is None:
        raise StackError("could not read a Java version from `java -version` output")
    parts = re.split(r"[^0-9]+", match.group(1))
    numbers = [int(part) for part in parts if part]
    if not numbers:
        raise StackError(f"could not read a Java version from {match.group(1)!r}")
    if numbers[0] == 1 and len(numbers) > 1:
        return numbers[1]
    return numbers[0]
