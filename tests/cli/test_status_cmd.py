"""`renkei status` rendering (the gathering runs against the real stack in
tests/integration/test_operations.py)."""

from __future__ import annotations

from click.testing import CliRunner

from renkei.cli import cli
from renkei.cli.status_cmd import render
from renkei.ops.status import StageStatus, TopicStatus


def test_table_shows_state_lag_dlq_freshness_and_commit_age() -> None:
    ready = StageStatus("resident", "http://127.0.0.1:6067", up=True, ready=True, reason="ok")
    ready.inputs = [TopicStatus("std.registry.resident.events", 0, True, 2)]
    ready.freshness_p99 = {"unified.resident": 0.42, "internal.resident.facts": 12.3}
    ready.last_commit_age = 3.2
    down = StageStatus("region", "http://127.0.0.1:6068", reason="not answering (ConnectError)")
    down.inputs = [
        TopicStatus("internal.resident.facts", 120, True, None),
        TopicStatus("std.economy.region.indicators", 7, False, 0),
    ]
    lines = render([ready, down]).splitlines()
    assert lines[0].split() == ["STAGE", "STATE", "LAG", "DLQ", "FRESH", "p99", "LAST", "COMMIT"]
    assert lines[1].split() == ["resident", "ready", "0", "2", "12s", "3.20s", "ago"]
    assert "out unified.resident" in "\n".join(lines) and "fresh p99 0.42s" in "\n".join(lines)
    region = lines.index(next(line for line in lines if line.startswith("region")))
    assert lines[region].split() == ["region", "DOWN", "127", "0", "-", "-"]
    assert "not answering (ConnectError) (http://127.0.0.1:6068)" in lines[region + 1]
    assert "lag 120" in lines[region + 2] and "dlq -" in lines[region + 2]
    assert lines[region + 3].endswith("(never committed)")


def test_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["status", "--help"])
    assert result.exit_code == 0
    assert "0 when every stage shown is ready, 2 when one is down" in " ".join(
        result.output.split()
    )
