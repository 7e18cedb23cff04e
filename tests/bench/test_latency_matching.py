"""The freshness clock: a state record covers every earlier event of its key (pure logic)."""

from __future__ import annotations

from renkei.bench.latency import _Clock, _freshness


def _published(clock: _Clock, key: bytes, event_id: str, at: float) -> None:
    clock.sent[event_id] = at
    clock.by_key.setdefault(key, []).append(event_id)


def test_a_record_covers_the_earlier_events_of_its_key_whose_own_record_was_coalesced() -> None:
    clock = _Clock()
    _published(clock, b"r1", "a", 10.0)
    _published(clock, b"r2", "x", 10.5)
    _published(clock, b"r1", "b", 11.0)
    _published(clock, b"r1", "c", 12.0)
    _freshness(clock, b"r1", [("ce_id", b"b")], 13.0)
    assert sorted(clock.samples.freshness_ms) == [2000.0, 3000.0]  # b and a, not c
    assert clock.seen == {"a", "b"}
    _freshness(clock, b"r1", [("ce_id", b"c")], 14.0)
    _freshness(clock, b"r1", [("ce_id", b"c")], 15.0)  # counted once
    assert sorted(clock.samples.freshness_ms) == [2000.0, 2000.0, 3000.0]
    assert "x" not in clock.seen


def test_a_record_of_another_key_counts_only_its_own_event() -> None:
    clock = _Clock()
    _published(clock, b"r1", "a", 10.0)
    _published(clock, b"r2", "x", 10.5)
    # r1's profile re-sent with r2's event (a household member): x arrived, a did not
    _freshness(clock, b"r1", [("ce_id", b"x")], 11.5)
    assert clock.seen == {"x"} and clock.samples.freshness_ms == [1000.0]


def test_records_without_a_known_event_count_nothing() -> None:
    clock = _Clock()
    _published(clock, b"r1", "a", 10.0)
    _freshness(clock, b"r1", [("ce_id", b"unknown")], 11.0)
    _freshness(clock, b"r1", [], 11.0)
    assert clock.samples.freshness_ms == []
