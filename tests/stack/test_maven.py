"""Running Maven: progress from its download lines, its log kept aside, clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from renkei.errors import StackError
from renkei.stack.maven import DownloadTally, find_mvn, project_pom, run_maven, staged_pom

CENTRAL = "https://repo.maven.apache.org/maven2"
JAR = f"{CENTRAL}/org/apache/kafka/kafka_2.13/3.9.1/kafka_2.13-3.9.1.jar"


def _fake_mvn(folder: Path, script: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mvn = folder / "mvn"
    mvn.write_text("#!/bin/sh\n" + script)
    mvn.chmod(0o755)


def test_tally_counts_finished_downloads_in_bytes(tmp_path: Path) -> None:
    tally = DownloadTally(tmp_path)
    tally.feed(f"[INFO] Downloading from central: {JAR}\n")
    assert tally.in_flight
    tally.feed(f"[INFO] Downloaded from central: {JAR} (6.1 MB at 20 MB/s)\n")
    tally.feed(f"[INFO] Downloaded from central: {CENTRAL}/a/b/1/b-1.pom (799 B at 5 kB/s)\n")
    assert not tally.in_flight
    assert tally.files == 2
    assert tally.total_bytes() == pytest.approx(6.1 * 1024**2 + 799)
    assert tally.summary() == "2 files, 6.1 MB"


def test_tally_sees_a_large_file_grow_in_the_local_repository(tmp_path: Path) -> None:
    url = (
        f"{CENTRAL}/io/apicurio/apicurio-registry-app/3.3.3/apicurio-registry-app-3.3.3-all.tar.gz"
    )
    tally = DownloadTally(tmp_path)
    tally.feed(f"[INFO] Downloading from central: {url}\n")
    folder = tmp_path / "io/apicurio/apicurio-registry-app/3.3.3"
    folder.mkdir(parents=True)
    (folder / "apicurio-registry-app-3.3.3-all.tar.gz.part").write_bytes(b"x" * 3 * 1024**2)
    assert tally.summary() == "0 files, 3.0 MB"


def test_progress_is_compact_and_the_full_output_goes_to_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = "".join(
        f"echo '[INFO] Downloaded from central: {CENTRAL}/g/a{i}/1/a{i}-1.jar (1.0 MB at 9 MB/s)'\n"
        for i in range(40)
    )
    _fake_mvn(tmp_path / "bin", lines + "echo '[INFO] BUILD SUCCESS'\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    seen: list[str] = []
    log = tmp_path / "logs" / "maven-kafka-3.9.1.log"
    tally = run_maven(
        ["dependency:copy-dependencies"], label="kafka 3.9.1", log_path=log, progress=seen.append
    )
    assert tally.files == 40
    assert seen[-1].startswith("kafka 3.9.1: fetched in ")
    assert seen[-1].endswith("(downloaded 40 files, 40.0 MB)")
    assert len(seen) <= 3  # a summary, not Maven's 40 lines
    text = log.read_text()
    assert "BUILD SUCCESS" in text and text.count("Downloaded from") == 40
    assert text.splitlines()[0].endswith("-B dependency:copy-dependencies")


def test_a_failed_fetch_shows_the_first_error_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_mvn(
        tmp_path / "bin",
        "echo '[ERROR] Failed to execute goal: Could not find artifact "
        "org.apache.kafka:kafka_2.13:jar:3.9.7 in central'\n"
        "echo '[ERROR] '\necho '[ERROR] Re-run Maven using the -X switch'\nexit 1\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    log = tmp_path / "maven.log"
    with pytest.raises(StackError) as caught:
        run_maven([], label="kafka 3.9.7", log_path=log, progress=lambda _: None)
    message = str(caught.value)
    assert "Maven failed to fetch kafka 3.9.7 (exit 1)" in message
    assert "published on Maven Central" in message
    assert "kafka_2.13:jar:3.9.7" in message and "-X switch" not in message
    assert f"full log: {log}" in message


def test_missing_maven_says_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError, match=r"Maven \(`mvn`\) is not on PATH.*apt-get install maven"):
        find_mvn()


def test_maven_runs_on_a_copy_of_the_project_pom(tmp_path: Path) -> None:
    original = project_pom("kafka")
    copy = staged_pom("kafka", tmp_path / "downloads" / "kafka-3.9.1")
    assert copy.parent == tmp_path / "downloads" / "kafka-3.9.1"
    assert copy.read_text() == original.read_text()
    assert "<artifactId>kafka_2.13</artifactId>" in copy.read_text()
