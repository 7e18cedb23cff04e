"""Kafka and Java version parsing: what decides the 3.x/4.x differences."""

from __future__ import annotations

import pytest

from renkei.errors import StackError
from renkei.stack.versions import DEFAULT_KAFKA_VERSION, KafkaVersion, parse_java_major


def test_default_is_the_pinned_3_9_line() -> None:
    version = KafkaVersion.parse(DEFAULT_KAFKA_VERSION)
    assert str(version) == "3.9.1"
    assert not version.uses_log4j2
    assert version.maven_profiles == ()
    assert not version.has_share_coordinator


@pytest.mark.parametrize(
    ("text", "log4j2", "share", "profiles"),
    [
        ("4.0.1", True, False, ("kafka4",)),
        ("4.1.1", True, True, ("kafka4",)),
        ("4.4.0", True, True, ("kafka4",)),
        ("3.9.2", False, False, ()),
    ],
)
def test_each_line_gets_its_logging_profile_and_share_settings(
    text: str, log4j2: bool, share: bool, profiles: tuple[str, ...]
) -> None:
    version = KafkaVersion.parse(text)
    assert (version.uses_log4j2, version.has_share_coordinator) == (log4j2, share)
    assert version.maven_profiles == profiles


def test_versions_compare_numerically() -> None:
    assert KafkaVersion.parse("3.10.0") > KafkaVersion.parse("3.9.1")


@pytest.mark.parametrize("text", ["3.9", "4.1.1-rc1", "latest", "", "v3.9.1"])
def test_malformed_versions_are_refused_with_the_expected_shape(text: str) -> None:
    with pytest.raises(StackError, match=r"X\.Y\.Z"):
        KafkaVersion.parse(text)


def test_versions_without_kraft_are_refused() -> None:
    with pytest.raises(StackError, match="no KRaft"):
        KafkaVersion.parse("2.8.2")


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "25.0.3" 2026-04-21 LTS', 25),
        ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment', 8),
        ('openjdk version "21-ea" 2023-09-19', 21),
        ('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="21.0.5"\n', 21),
    ],
)
def test_java_major_from_version_output_or_release_file(output: str, major: int) -> None:
    assert parse_java_major(output) == major


def test_unreadable_java_version_is_an_error() -> None:
    with pytest.raises(StackError):
        parse_java_major("Error: could not create the Java Virtual Machine.")
