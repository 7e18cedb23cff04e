"""The DLQ tools' logic without a broker: topic names, header handling, masking, the replay
memory and selection, one replay run over fake I/O, the list summary, the CLI's help."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner

from renkei.audit.chain import check_details
from renkei.cli import cli
from renkei.errors import ConfigurationError, PublishError
from renkei.ops.dlq.entries import (
    REPLAY_HEADER,
    DlqEntry,
    mask_my_numbers,
    mask_text,
    replay_headers,
    resolve_topic,
)
from renkei.ops.dlq.memory import Decision, ReplayMemory, Selection, memory_groups, replay_group
from renkei.ops.dlq.replay import ReplayReport, _Run
from renkei.ops.dlq.summary import render_table, summarize
from tests.runtime.kafka_helpers import free_port

SOURCE = "p.registry.resident.events"
DLQ = "p.dlq.registry.resident.events"


def entry(
    offset: int,
    reason: str = "standardization",
    *,
    partition: int = 0,
    origin: str | None = SOURCE,
    origin_offset: int | None = 40,
    extra: tuple[tuple[str, bytes], ...] = (),
) -> DlqEntry:
    headers: list[tuple[str, bytes]] = [("ce_id", b"ce-1"), *extra]
    dlq = {
        "reason": reason,
        "detail": "detail.household.relationship: not a relationship term",
        "stage": "standardize",
        "partition": "3",
        "time": f"2026-11-26T10:00:0{offset % 10}.000+00:00",
    }
    if origin is not None:
        dlq["topic"] = origin
    if origin_offset is not None:
        dlq["offset"] = str(origin_offset + offset)
    headers += [(f"renkei.dlq.{k}", v.encode()) for k, v in dlq.items()]
    return DlqEntry(DLQ, partition, offset, b"000000077700001", b"\x00value", tuple(headers))


# ---- names and headers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "dlq.registry.resident.events",
        "registry.resident.events",
        "p.dlq.registry.resident.events",
        "p.registry.resident.events",
    ],
)
def test_a_dlq_topic_is_named_by_itself_or_its_source(name: str) -> None:
    topic = resolve_topic(name, "p.")
    assert (topic.dlq, topic.source, topic.contract) == (
        DLQ,
        SOURCE,
        "dlq.registry.resident.events",
    )


@pytest.mark.parametrize("name", ["", "dlq", "dlq.", "p."])
def test_names_without_a_topic_are_refused(name: str) -> None:
    with pytest.raises(ConfigurationError):
        resolve_topic(name, "p.")


def test_headers_are_parsed_and_missing_ones_say_so() -> None:
    e = entry(2)
    assert (e.reason, e.stage, e.origin_topic, e.origin_partition, e.origin_offset) == (
        "standardization",
        "standardize",
        SOURCE,
        3,
        42,
    )
    bare = DlqEntry(DLQ, 1, 7, None, None, (("renkei.dlq.partition", b"x"),))
    assert (bare.reason, bare.stage, bare.origin_partition, bare.time) == (
        "unknown",
        "unknown",
        None,
        None,
    )
    assert bare.position == f"{DLQ}:1:7"


def test_a_replayed_record_keeps_its_headers_but_the_dlq_ones() -> None:
    came_back = entry(5, extra=((REPLAY_HEADER, b"older:0:1"),))
    headers = replay_headers(came_back)
    assert headers == [("ce_id", b"ce-1"), (REPLAY_HEADER, f"{DLQ}:0:5".encode())]


# ---- masking ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("123456789018", "************"),
        ("1234 5678 9018", "************"),
        ("１２３４－５６７８－９０１８", "************"),
        ("番号123456789012です", "番号************です"),
    ],
)
def test_twelve_digit_groups_are_masked(text: str, shown: str) -> None:
    assert mask_text(text) == shown


@pytest.mark.parametrize("text", ["000000077700001", "09012345678", "ﾀｶﾊｼ", "1234-5678"])
def test_other_text_is_shown_as_recorded(text: str) -> None:
    assert mask_text(text) == text


def test_values_are_masked_everywhere() -> None:
    value = {"a": [{"b": "123456789018"}], "123456789018": 1, "n": 5}
    assert mask_my_numbers(value) == {"a": [{"b": "************"}], "************": 1, "n": 5}


# ---- memory and selection ---------------------------------------------------------------------
def test_a_fresh_memory_sends_everything_from_the_topic() -> None:
    memory, everything = ReplayMemory(), Selection()
    assert everything.decide(entry(0), memory, SOURCE) is Decision.SEND
    assert everything.decide(entry(1, origin="p.other"), memory, SOURCE) is Decision.FOREIGN
    publisher = entry(2, "validation", origin_offset=None)
    assert everything.decide(publisher, memory, SOURCE) is Decision.NOT_FROM_TOPIC
    masked = entry(3, extra=(("renkei.masked", b"my_number"),))
    assert everything.decide(masked, memory, SOURCE) is Decision.MASKED


def test_what_a_replay_committed_is_not_sent_again() -> None:
    memory = ReplayMemory(unfiltered={0: 3}, by_reason={"schema": {0: 6}})
    everything = Selection()
    decisions = [everything.decide(entry(o), memory, SOURCE) for o in range(2, 5)]
    assert decisions == [Decision.REPLAYED, Decision.SEND, Decision.SEND]
    # an unfiltered replay also respects what a --reason replay sent
    assert everything.decide(entry(5, "schema"), memory, SOURCE) is Decision.REPLAYED
    assert everything.decide(entry(6, "schema"), memory, SOURCE) is Decision.SEND
    assert everything.decide(entry(1, partition=1), memory, SOURCE) is Decision.SEND
    assert everything.start(0, memory) == 3


def test_a_reason_replay_has_its_own_memory() -> None:
    memory = ReplayMemory(unfiltered={0: 3}, by_reason={"schema": {0: 6}})
    schema = Selection(reason="schema")
    assert schema.decide(entry(4), memory, SOURCE) is Decision.OTHER_REASON
    assert schema.decide(entry(5, "schema"), memory, SOURCE) is Decision.REPLAYED
    assert schema.start(0, memory) == 6
    assert schema.commit_to(0, 9, memory) == 9
    assert schema.commit_to(0, 6, memory) is None  # never backwards


def test_from_offset_sends_again_but_leaves_no_gap_in_the_memory() -> None:
    memory = ReplayMemory(unfiltered={0: 3})
    again = Selection(from_offset=1)
    assert again.decide(entry(0), memory, SOURCE) is Decision.BEFORE_START
    assert again.decide(entry(2), memory, SOURCE) is Decision.SEND
    assert again.commit_to(0, 10, memory) == 10
    later = Selection(from_offset=5)
    assert later.commit_to(0, 10, memory) is None  # offsets 3 and 4 were never sent


def test_replay_groups_per_topic_and_reason() -> None:
    assert replay_group(DLQ) == f"renkei-replay.{DLQ}"
    assert replay_group(DLQ, "schema") == f"renkei-replay.{DLQ}.schema"
    groups = memory_groups(DLQ, [f"renkei-replay.{DLQ}.newclass", f"renkei-replay.{DLQ}x.a"])
    assert groups[None] == replay_group(DLQ)
    assert {"deserialization", "schema", "standardization", "processing", "newclass"} <= set(groups)
    assert "a" not in groups


# ---- one replay run over fake I/O -------------------------------------------------------------
class FakeSender:
    def __init__(self, fail: bool = False):
        self.sent: list[tuple[str, Any]] = []
        self.fail = fail

    async def send_all(self, topic: str, records: list[Any]) -> None:
        if self.fail:
            raise PublishError("not acknowledged")
        self.sent += [(topic, r) for r in records]


class FakeWriter:
    def __init__(self) -> None:
        self.commits: list[dict[int, int]] = []

    async def commit(self, offsets: dict[int, int]) -> None:
        if offsets:
            self.commits.append(dict(offsets))


def _run(memory: ReplayMemory, sender: FakeSender, selection: Selection | None = None) -> Any:
    report = ReplayReport(resolve_topic(DLQ, "p."), selection or Selection(), dry_run=False)
    writer = FakeWriter()
    run = _Run(report, memory, sender, writer, progress=None)  # type: ignore[arg-type]
    run.partition_count = 6
    return report, writer, run


def test_a_run_sends_the_chosen_records_and_commits_after_the_acks() -> None:
    sender = FakeSender()
    report, writer, run = _run(ReplayMemory(unfiltered={0: 1}), sender)
    batch = [entry(0), entry(1), entry(2, "schema"), entry(3, origin_offset=None)]
    asyncio.run(run.batch(batch))
    asyncio.run(run.finish({0: 6}))
    assert [(t, r[0], r[2]) for t, r in sender.sent] == [(SOURCE, b"000000077700001", 3)] * 2
    assert sender.sent[0][1][3][-1] == (REPLAY_HEADER, f"{DLQ}:0:1".encode())
    assert dict(report.sent) == {"standardization": 1, "schema": 1}
    assert report.skipped == {Decision.REPLAYED: 1, Decision.NOT_FROM_TOPIC: 1}
    assert writer.commits == [{0: 4}, {0: 6}]


def test_nothing_is_remembered_when_the_broker_does_not_acknowledge() -> None:
    _, writer, run = _run(ReplayMemory(), FakeSender(fail=True))
    with pytest.raises(PublishError):
        asyncio.run(run.batch([entry(0)]))
    assert writer.commits == []


def test_a_partition_the_topic_no_longer_has_is_left_to_the_partitioner() -> None:
    sender = FakeSender()
    _, _, run = _run(ReplayMemory(), sender)
    run.partition_count = 2
    asyncio.run(run.batch([entry(0)]))
    assert sender.sent[0][1][2] is None


def test_the_audit_details_hold_counts_only() -> None:
    report, _, run = _run(ReplayMemory(), FakeSender(), Selection(reason="standardization"))
    asyncio.run(run.batch([entry(0), entry(1, "schema")]))
    details = report.audit_details()
    assert details["records"] == 1 and details["by_reason"] == {"standardization": 1}
    assert details["outcome"] == "done"
    assert details["skipped"] == {"other reason": 1}
    check_details(details)  # the audit log's own guard against personal-looking keys
    assert "000000077700001" not in str(details)


# ---- list -------------------------------------------------------------------------------------
def test_the_summary_counts_without_contents() -> None:
    entries = [
        entry(0),
        entry(1),
        entry(2, extra=((REPLAY_HEADER, b"x:0:0"),)),
        entry(3, "schema"),
    ]
    rows = summarize(DLQ, entries, ReplayMemory(unfiltered={0: 2}))
    assert [(r.reason, r.records, r.replayed, r.pending, r.returned) for r in rows] == [
        ("schema", 1, 0, 1, 0),
        ("standardization", 3, 2, 1, 1),
    ]
    lines = render_table(rows, ["p.dlq.health.checkup.results"])
    assert lines[0].split() == [
        "TOPIC", "STAGE", "REASON", "RECORDS", "PENDING", "REPLAYED", "RETURNED", "LAST",
    ]  # fmt: skip
    assert lines[2].split()[:7] == [DLQ, "standardize", "standardization", "3", "1", "2", "1"]
    assert lines[3].split()[:4] == ["p.dlq.health.checkup.results", "-", "-", "0"]
    text = "\n".join(lines)
    assert "000000077700001" not in text and "relationship" not in text


def test_the_help_names_the_verbs_and_options() -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["dlq", "--help"])
    assert top.exit_code == 0
    assert all(verb in top.output for verb in ("list", "show", "replay"))
    replay = runner.invoke(cli, ["dlq", "replay", "--help"])
    for option in ("--dry-run", "--reason", "--from-offset", "renkei.replay.of", "dlq.replay"):
        assert option in replay.output
    assert "validation" in runner.invoke(cli, ["dlq", "show", "--help"]).output


def test_an_unreachable_broker_is_one_clear_error() -> None:
    env = {"RENKEI_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}
    for args in (["list"], ["show", "registry.resident.events"], ["replay", "x", "--dry-run"]):
        result = CliRunner().invoke(cli, ["dlq", *args], env=env)
        assert result.exit_code == 1, (args, result.output)
        assert "not reachable" in result.output


def test_a_replay_stopped_by_an_error_still_audits_what_it_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from renkei.cli import dlq_cmd

    audited: list[dict[str, Any]] = []

    async def half_done(settings: Any, report: ReplayReport, **_: Any) -> ReplayReport:
        report.sent["standardization"] += 2
        raise PublishError("p.registry.resident.events: the broker did not acknowledge")

    async def audit(settings: Any, report: ReplayReport) -> None:
        audited.append(report.audit_details())

    monkeypatch.setattr(dlq_cmd, "replay", half_done)
    monkeypatch.setattr(dlq_cmd, "_audit", audit)
    result = CliRunner().invoke(cli, ["dlq", "replay", "registry.resident.events"])
    assert result.exit_code == 1
    assert "replayed 2 records" in result.output and "stopped by an error" in result.output
    assert "did not acknowledge" in result.output
    [details] = audited
    assert details["records"] == 2 and details["outcome"].startswith("failed: ")
