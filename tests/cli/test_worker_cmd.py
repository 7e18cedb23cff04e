"""``renkei worker``: stage registry, argument errors, help; ``all`` against the real broker."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.cli import cli
from renkei.cli.worker_cmd import worker
from renkei.contracts.stages import STAGES, StageSpec
from renkei.errors import ConfigurationError
from renkei.runtime.worker import load_builder
from renkei.stages.standardize.stage import build_standardize
from tests.runtime.kafka_helpers import WorkerProcess, free_port_block


def test_every_stage_is_registered_by_name_with_its_builder() -> None:
    assert list(STAGES) == ["standardize", "resident", "region", "evacuation", "views"]
    assert STAGES["standardize"].builder == "renkei.stages.standardize.stage:build_standardize"
    assert load_builder("standardize") is build_standardize
    assert load_builder("tests.runtime.echo_stage:build_echo").__name__ == "build_echo"
    for name in STAGES:  # every registered builder exists: nothing is "not built yet"
        assert callable(load_builder(name))


def test_a_registered_stage_whose_module_is_missing_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = StageSpec("future", "a stage", "renkei.stages.future.stage:build_future", 9)
    monkeypatch.setitem(STAGES, "future", spec)
    with pytest.raises(ConfigurationError, match=r"renkei\.stages\.future\.stage"):
        load_builder("future")


def test_an_unknown_stage_is_a_usage_error() -> None:
    result = CliRunner().invoke(worker, ["nonsense"])
    assert result.exit_code == 2
    assert "unknown stage 'nonsense'" in result.output


def test_all_refuses_single_stage_options() -> None:
    result = CliRunner().invoke(worker, ["all", "--web-port", "7000"])
    assert result.exit_code == 2
    assert "apply to a single stage" in result.output


def test_help_names_the_stages_and_where_logs_go() -> None:
    result = CliRunner().invoke(worker, ["--help"])
    assert result.exit_code == 0
    for text in (
        "standardize, resident, region, evacuation or views",
        "stderr",
        "worker-<stage>.log",
        "SIGTERM",
        "renkei schemas apply",
        "Exit code 0",
    ):
        assert text in " ".join(result.output.split()), text


def _all_env(tmp_path: Path, prefix: str) -> dict[str, str]:
    return {
        "RENKEI_TOPIC_PREFIX": prefix,
        "RENKEI_WORKER_WEB_PORT_BASE": str(free_port_block(len(STAGES))),
        "RENKEI_HOME": str(tmp_path / "home"),
    }


@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_all_stops_every_stage_when_one_fails(tmp_path: Path) -> None:
    """Under a fresh prefix no stage's inputs exist: the first child to fail at startup is
    named with its log, the others are stopped, and `all` exits 1."""
    runner = WorkerProcess(
        "all", tmp_path / "all.out", _all_env(tmp_path, f"test-{time.time_ns()}.")
    )
    code = runner.wait_exit(timeout=90)
    output = runner.output()
    assert code == 1, output
    assert "standardize  pid" in output
    failed = re.search(r"(\w+) exited with code 1; see (\S+)", output)
    assert failed is not None, output
    stage, log = failed.groups()
    assert log == str(tmp_path / "home" / "logs" / f"worker-{stage}.log")
    assert "run `renkei schemas apply` first" in Path(log).read_text()
    assert f"{stage} stopped (exit 1)" in output


@pytest.mark.kafka
@pytest.mark.timeout(180)
def test_all_runs_the_stages_and_ctrl_c_stops_them_cleanly(
    tmp_path: Path, isolated_schemas_dir: tuple[Path, str]
) -> None:
    schemas_dir, prefix = isolated_schemas_dir
    applied = CliRunner().invoke(
        cli, ["schemas", "apply"], env={"RENKEI_SCHEMAS_DIR": str(schemas_dir)}
    )
    assert applied.exit_code == 0, applied.output
    runner = WorkerProcess("all", tmp_path / "all.out", _all_env(tmp_path, f"{prefix}."))
    logs = [tmp_path / "home" / "logs" / f"worker-{name}.log" for name in STAGES]
    # Stop once every stage consumes. faust quirks when stopped during startup: a consumer
    # inside its first group join can take a minute to stop, and a table's changelog
    # declaration can fail with InvalidStateError (exit 1).
    deadline = time.monotonic() + 90
    while not all(log.exists() and "partitions assigned" in log.read_text() for log in logs):
        assert runner.process.poll() is None, runner.output()
        assert time.monotonic() < deadline, [log.read_text() for log in logs if log.exists()]
        time.sleep(0.3)
    code = runner.stop(signal.SIGINT)
    output = runner.output()
    assert code == 0, output
    assert "stopping every stage" in output
    for name in STAGES:
        assert f"{name} stopped (exit 0)" in output
