import pytest

from renkei.errors import SerializationError
from renkei.serde.wire import frame, unframe


def test_frame_layout_is_confluent() -> None:
    framed = frame(258, b"\x02ab")
    assert framed == b"\x00\x00\x00\x01\x02\x02ab"
    schema_id, body = unframe(framed)
    assert schema_id == 258 and bytes(body) == b"\x02ab"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "tombstone"),
        (b"\x00\x01", "shorter"),
        (b"\x01\x00\x00\x00\x01x", "magic byte 1"),
    ],
)
def test_bad_frames_are_refused(value: bytes | None, reason: str) -> None:
    with pytest.raises(SerializationError, match=reason):
        unframe(value)
