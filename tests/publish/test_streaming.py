"""``renkei publish`` streams its input (issue 12, finding 6): a line is sent before the next
ones are read, deliveries are awaited per window, and nothing reads the file whole.

The input is a stream that makes its lines as they are read and refuses a whole-file read; the
publisher is a stand-in that notes, at each send, how far the stream has been read and how many
sends are still unacknowledged (pure logic: the broker path is tests/integration/).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from renkei.cli import cli, publish_cmd
from renkei.input_formats.csv_mapping import load_mapping
from renkei.publish.jsonl import read_json_lines
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings

REPO = Path(__file__).resolve().parents[2]
IDOU = REPO / "deploy" / "mappings" / "jumin-kiroku-idou.yaml"
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
TOPIC = "registry.resident.events"
LINES = 3 * publish_cmd.ACK_WINDOW + 17
SLACK = 200
"""How many lines the reader may read ahead of what was sent (its buffer, a CSV record)."""
IDOU_HEADER = (
    "統合宛名番号,異動日,処理日時,異動事由,氏,名,氏カナ,名カナ,生年月日,性別,住民種別,郵便番号,"
    "住所,方書,世帯番号,続柄,前住所市町村コード,前住所,転出先市町村コード,転出先住所,支援措置"
)


class LazyStream:
    """A binary file of ``count`` lines made as they are read; reading it whole fails."""

    def __init__(self, header: bytes | None, line: Any, count: int) -> None:
        self._lines = self._make(header, line, count)
        self._buffer = b""
        self.produced = 0
        """Data lines made so far (how far the reader got)."""

    def _make(self, header: bytes | None, line: Any, count: int) -> Iterator[bytes]:
        if header is not None:
            yield header
        for n in range(count):
            self.produced = n + 1
            yield line(n)

    def readline(self, limit: int = -1) -> bytes:
        if limit is None or limit < 0:
            raise AssertionError("an unbounded readline: the reader must bound its lines")
        if not self._buffer:
            self._buffer = next(self._lines, b"")
        chunk, self._buffer = self._buffer[:limit], self._buffer[limit:]
        return chunk

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the whole file was read into memory")
        return self.readline(size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        raise AssertionError("the whole file was read into memory")

    def __iter__(self) -> Iterator[bytes]:
        raise AssertionError("iterating lines without a bound")

    def __enter__(self) -> LazyStream:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class Ack:
    """A delivery future: counts its acknowledgement when awaited."""

    def __init__(self, publisher: FakePublisher) -> None:
        self._publisher = publisher

    def __await__(self) -> Generator[Any, None, None]:
        self._publisher.acked += 1
        return None
        yield  # a generator: ``await`` accepts it


class FakePublisher:
    """Stands in for :class:`renkei.publish.producer.Publisher` (no broker)."""

    stream: LazyStream

    def __init__(self, settings: Settings, catalogue: Any, **options: Any) -> None:
        self.sent = 0
        self.acked = 0
        self.dead = 0
        self.read_at_send: list[int] = []
        self.unacked_at_send: list[int] = []

    async def __aenter__(self) -> FakePublisher:
        FakePublisher.last = self  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def dlq_topic(self, topic: str) -> str:
        return f"dlq.{topic}"

    async def prepare(self, topic: str, value: Any) -> Any:
        return SimpleNamespace(headers=[])

    def _note(self) -> Ack:
        self.read_at_send.append(FakePublisher.stream.produced)
        self.unacked_at_send.append(self.sent + self.dead - self.acked)
        return Ack(self)

    async def send(self, record: Any) -> Ack:
        self.sent += 1
        return self._note()

    async def dead_letter(self, topic: str, value: Any, problems: Any, *, origin: str) -> Ack:
        self.dead += 1
        return self._note()


def _publish(lines: Iterator[Any], stream: LazyStream, monkeypatch: pytest.MonkeyPatch) -> Any:
    FakePublisher.stream = stream
    monkeypatch.setattr(publish_cmd, "Publisher", FakePublisher)
    spec = CATALOGUE.get(TOPIC)
    report = asyncio.run(publish_cmd._publish(Settings(), CATALOGUE, spec, lines, "test"))
    return report, FakePublisher.last  # type: ignore[attr-defined]


def _assert_streamed(fake: FakePublisher, total: int) -> None:
    assert len(fake.read_at_send) == total
    for sent, read in enumerate(fake.read_at_send, start=1):
        assert read - sent <= SLACK, f"record {sent} was sent after {read} lines were read"
    # at most one window of sends and one of DLQ records wait for their acknowledgement
    assert max(fake.unacked_at_send) <= 2 * publish_cmd.ACK_WINDOW
    assert max(fake.unacked_at_send) < LINES / 2
    assert fake.acked == total


def test_json_lines_are_sent_as_they_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def line(n: int) -> bytes:
        return b"not json\n" if n == 7 else b'{"n": %d}\n' % n

    stream = LazyStream(None, line, LINES)
    report, fake = _publish(read_json_lines(stream), stream, monkeypatch)  # type: ignore[arg-type]
    assert (report.read, report.valid, report.invalid) == (LINES, LINES - 1, 1)
    assert (report.published, report.dead_lettered) == (LINES - 1, 1)
    _assert_streamed(fake, LINES)


def test_a_cp932_csv_export_is_sent_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def row(n: int) -> bytes:
        text = (
            f"{n:015d},R8.10.1,2026-10-09 10:42:17,転入,高橋,健一,ﾀｶﾊｼ,ｹﾝｲﾁ,昭和55年4月1日,男,"
            "日本人,〒064-0941,北海道札幌市中央区旭ケ丘５丁目６番５１号,,0001023454,世帯主,"
            "131016,東京都千代田区麹町3丁目2番1号,,,無\r\n"
        )
        return text.encode("cp932")

    stream = LazyStream(IDOU_HEADER.encode("cp932") + b"\r\n", row, LINES)
    monkeypatch.setattr(publish_cmd, "open_input", lambda path: stream)
    spec = CATALOGUE.get(TOPIC)
    lines = publish_cmd.csv_lines(spec, load_mapping(IDOU), "export.csv", None, None)
    assert stream.produced == 0  # nothing is read before the first row is asked for
    report, fake = _publish(lines, stream, monkeypatch)
    assert (report.read, report.valid, report.invalid) == (LINES, LINES, 0)
    _assert_streamed(fake, LINES)


def test_a_dry_run_validates_a_large_file_without_reading_it_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def line(n: int) -> bytes:
        return b'{"n": %d}\n' % n

    stream = LazyStream(None, line, LINES)
    monkeypatch.setattr(publish_cmd, "open_input", lambda path: stream)
    validated: list[int] = []
    real = publish_cmd.RecordValidator

    class Counting(real):  # type: ignore[misc, valid-type]
        def validate(self, value: Any) -> Any:
            validated.append(stream.produced)
            return super().validate(value)

    monkeypatch.setattr(publish_cmd, "RecordValidator", Counting)
    result = CliRunner().invoke(cli, ["publish", "--dry-run", TOPIC, "big.jsonl"])
    assert result.exit_code == 1  # {"n": …} is no registry event
    assert f"{LINES} lines, 0 valid, {LINES} invalid (dry run" in result.output
    assert len(validated) == LINES
    assert all(read - done <= SLACK for done, read in enumerate(validated, start=1))


def test_csv_rows_keep_no_per_line_state(tmp_path: Path) -> None:
    """The CSV reader's line bookkeeping does not grow with the file (it used to keep the
    physical number of every line read)."""
    from renkei.input_formats import csv_rows

    stream = LazyStream(b"a,b\n", lambda n: b"%d,x\n" % n, LINES)
    rows = csv_rows.read_csv_rows(stream, "utf-8")  # type: ignore[arg-type]
    for n, row in enumerate(rows):
        assert row.line == n + 2 and row.cells == {"a": str(n), "b": "x"}
        if n == LINES - 1:
            frame = rows.gi_frame  # type: ignore[attr-defined]
            assert len(frame.f_locals["numbers"]) <= 2
