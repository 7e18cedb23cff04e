"""The job's schedule, secret and CLI parsing (no broker; the live test takes real snapshots)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

import click
import pytest

from renkei.cli.disclosure_cmd import parse_every
from renkei.disclosure import job
from renkei.disclosure.release import DisclosureRules
from renkei.errors import ConfigurationError, StackError
from renkei.settings import Settings


def test_intervals_parse_and_bad_ones_are_refused() -> None:
    assert parse_every("1d") == dt.timedelta(days=1)
    assert parse_every("6h") == dt.timedelta(hours=6)
    assert parse_every("30m") == dt.timedelta(minutes=30)
    for bad in ("0d", "1w", "day", "-1h"):
        with pytest.raises(click.BadParameter):
            parse_every(bad)


def test_the_secret_is_created_private_once_and_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "disclosure" / "cell-key.key"
    first = job.load_or_create_secret(path)
    assert len(first) == 32 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert job.load_or_create_secret(path) == first
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        job.load_or_create_secret(path)


def test_run_every_goes_on_after_a_failed_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes: list[object] = []
    calls = 0

    async def fake_snapshot(settings: Settings, rules: DisclosureRules) -> job.SnapshotReport:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StackError("Kafka not reachable")
        return job.SnapshotReport(dt.datetime.now(dt.UTC), dt.date(2026, 10, 1), 0)

    monkeypatch.setattr(job, "take_snapshot", fake_snapshot)

    async def main() -> None:
        task = asyncio.create_task(
            job.run_every(
                Settings(),
                DisclosureRules(),
                dt.timedelta(seconds=0.05),
                on_report=outcomes.append,
            )
        )
        while len(outcomes) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(main(), 10))
    assert isinstance(outcomes[0], StackError)
    assert all(isinstance(o, job.SnapshotReport) for o in outcomes[1:3])
