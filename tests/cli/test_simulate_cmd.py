"""`renkei simulate` options and its dry run (no server needed)."""

from __future__ import annotations

import asyncio
import time

from click.testing import CliRunner

from renkei.cli import cli
from renkei.cli.simulate_cmd import _Pacer


def test_dry_run_validates_every_topic_without_a_server() -> None:
    result = CliRunner().invoke(
        cli,
        ["simulate", "--dry-run", "--residents", "120", "--events", "200", "--seed", "3"],
        env={
            "RENKEI_KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "RENKEI_SCHEMA_REGISTRY_URL": "http://127.0.0.1:1",
        },
    )
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines() if line.endswith("validated")]
    topics = {parts[0] for parts in lines}
    assert topics == {
        "registry.resident.events",
        "health.checkup.results",
        "welfare.care.certifications",
        "disaster.area.alerts",
        "economy.region.indicators",
    }
    assert sum(int(parts[1]) for parts in lines) >= 120 + 200


def test_rate_needs_duration_and_excludes_events() -> None:
    runner = CliRunner()
    alone = runner.invoke(cli, ["simulate", "--dry-run", "--rate", "5"])
    assert alone.exit_code == 2 and "--rate and --duration go together" in alone.output
    both = runner.invoke(
        cli, ["simulate", "--dry-run", "--rate", "5", "--duration", "2", "--events", "3"]
    )
    assert both.exit_code == 2 and "either --events or --rate" in both.output


def test_an_unknown_municipality_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--dry-run", "--municipality", "131017"])
    assert result.exit_code != 0
    assert "check digit" in str(result.exception) or "check digit" in result.output


def test_the_pacer_spaces_events_after_the_snapshot() -> None:
    async def timed() -> float:
        pacer = _Pacer(50.0, after=100)
        for index in range(100):  # the snapshot is not paced
            await pacer.wait(index)
        start = time.monotonic()
        for index in range(100, 111):
            await pacer.wait(index)
        return time.monotonic() - start

    # 10 intervals at 50/s = 0.2 s; the upper bound only catches a pacer that does not pace
    assert 0.18 <= asyncio.run(timed()) < 2.0
