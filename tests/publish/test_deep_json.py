"""A deeply nested JSON line is one bad line, not a crash (issue 12, finding 6): on main
``renkei publish`` aborted with RecursionError."""

from __future__ import annotations

import io

from renkei.publish.jsonl import TOO_DEEP, read_json_lines


def test_deeply_nested_lines_are_reported_and_the_rest_goes_on() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    nested = b'{"a": ' * 40 + b"1" + b"}" * 40
    good = b'{"event_id": "x"}'
    lines = list(read_json_lines(io.BytesIO(b"\n".join([deep, nested, good]) + b"\n")))
    assert [line.number for line in lines] == [1, 2, 3]
    assert lines[0].value is None and lines[0].problems == (("(line)", TOO_DEEP),)
    assert lines[1].value is None and lines[1].problems == (("(line)", TOO_DEEP),)
    assert lines[2].value == {"event_id": "x"}
