"""Offsets arithmetic: lag and the age of the last commit."""

from __future__ import annotations

from renkei.ops.offsets import CommitClock, PartitionOffsets


def test_lag_from_the_commit_or_the_log_start() -> None:
    assert PartitionOffsets("t", 0, committed=7, start=0, end=10).lag == 3
    assert PartitionOffsets("t", 0, committed=None, start=4, end=10).lag == 6  # never committed
    assert PartitionOffsets("t", 0, committed=10, start=0, end=10).lag == 0
    assert PartitionOffsets("t", 0, committed=12, start=0, end=10).lag == 0  # end read first


def test_commit_age_grows_until_the_offset_moves() -> None:
    now = [100.0]
    clock = CommitClock(lambda: now[0])
    assert clock.age("t", 0, 5) == 0.0  # first sight
    now[0] = 107.0
    assert clock.age("t", 0, 5) == 7.0
    assert clock.age("t", 1, 5) == 0.0  # partitions are separate
    now[0] = 110.0
    assert clock.age("t", 0, 6) == 0.0  # advanced
    now[0] = 130.0
    assert clock.age("t", 0, 6) == 20.0
    assert clock.age("t", 0, None) == 0.0  # commit gone (group reset): a new start
