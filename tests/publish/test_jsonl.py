import io

from renkei.publish.jsonl import read_json_lines


def test_each_bad_line_is_reported_and_the_rest_kept() -> None:
    data = (
        b'{"a": 1}\n'
        b"\n"
        b'{"name": "\x82\xa0"}\n'  # CP932 bytes: not UTF-8
        b"{not json}\n"
        b"[1, 2]\n"
        b'\xef\xbb\xbf{"b": 2}\r\n'
    )
    lines = list(read_json_lines(io.BytesIO(data)))
    assert [line.number for line in lines] == [1, 3, 4, 5, 6]
    assert lines[0].value == {"a": 1} and not lines[0].problems
    assert "not valid UTF-8" in lines[1].problems[0][1]
    assert "CP932" in lines[1].problems[0][1]
    assert "not JSON" in lines[2].problems[0][1]
    assert "one JSON object" in lines[3].problems[0][1]
    assert lines[4].value == {"b": 2}
