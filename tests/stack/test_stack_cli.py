"""`renkei stack status|down` as a user or a script sees them (no servers needed)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from click.testing import CliRunner

from renkei.cli.stack_cmd import format_server, stack
from renkei.settings import Settings
from renkei.stack import ServerStatus


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        return int(placeholder.getsockname()[1])


def _nothing_running(home: Path) -> Settings:
    return Settings(
        home=home,
        kafka_bootstrap=f"127.0.0.1:{_free_port()}",
        schema_registry_url=f"http://127.0.0.1:{_free_port()}/apis/ccompat/v7",
    )


def test_status_row_shows_state_version_address_and_pid() -> None:
    row = format_server(ServerStatus("kafka", True, "3.9.1", "127.0.0.1:9092", 4242, "running"))
    assert row.split()[:6] == ["kafka", "up", "3.9.1", "127.0.0.1:9092", "pid", "4242"]


def test_status_exits_non_zero_and_says_down_when_nothing_runs(tmp_path: Path) -> None:
    settings = _nothing_running(tmp_path)
    result = CliRunner().invoke(stack, ["status"], obj=settings)
    assert result.exit_code == 1
    rows = result.output.splitlines()
    assert rows[0].split()[:2] == ["kafka", "DOWN"]
    assert rows[1].split()[:2] == ["registry", "DOWN"]
    assert settings.schema_registry_url in rows[1]
    assert rows[2] == f"logs: {tmp_path / 'logs'}"


def test_status_json_is_for_scripts(tmp_path: Path) -> None:
    result = CliRunner().invoke(stack, ["status", "--json"], obj=_nothing_running(tmp_path))
    payload = json.loads(result.output)
    assert result.exit_code == 1 and payload["all_up"] is False
    assert [server["name"] for server in payload["servers"]] == ["kafka", "registry"]
    assert payload["pinned"] == {"kafka": "3.9.1", "registry": "3.3.3"}


def test_down_with_nothing_started_stops_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(stack, ["down", "--wipe"], obj=_nothing_running(tmp_path))
    assert result.exit_code == 0, result.output
    assert "stopped: nothing" in result.output
    assert not (tmp_path / "data").exists()


def test_up_refuses_a_malformed_kafka_version_before_doing_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(stack, ["up", "--kafka", "4.1"], obj=_nothing_running(tmp_path))
    assert result.exit_code == 1
    assert "Kafka version must look like X.Y.Z" in result.output
    assert not (tmp_path / "downloads").exists()
