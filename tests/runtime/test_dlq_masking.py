"""Every rejected record is masked before it is written, whatever it was rejected for
(issue 12, finding 4): on main a record refused for another reason (a formula, a negative
number, a step bug) reached the DLQ with a 個人番号 in another field or a header unmasked."""

from __future__ import annotations

import pytest

from renkei.contracts.dlq import header_map
from renkei.identifiers.mynumber import my_number_check_digit
from renkei.runtime.records import SourceRecord
from tests.runtime.echo_stage import SOURCE_SCHEMA
from tests.runtime.fake_registry import encode
from tests.runtime.test_stage import Harness

NUMBER = "98765432109" + str(my_number_check_digit("98765432109"))


@pytest.mark.parametrize(("n", "reason"), [(-1, "standardization"), (13, "processing")])
async def test_a_record_rejected_for_another_reason_is_masked(n: int, reason: str) -> None:
    harness = await Harness().start()
    raw = encode(SOURCE_SCHEMA, harness.source_id, {"id": f"マイナンバー:{NUMBER}", "n": n})
    record = SourceRecord(
        topic="t.echo.source",
        contract_topic="echo.source",
        partition=2,
        offset=7,
        key=b"k1",
        value=raw,
        headers=(("ce_id", b"e-1"), ("x-vendor-note", f"個人番号 {NUMBER}".encode())),
    )
    await harness.processor.process(record)
    [(topic, _, kept, _, headers)] = harness.send.sent
    assert topic == "t.dlq.echo.source"
    found = header_map(headers)
    assert found["renkei.dlq.reason"] == reason
    assert NUMBER.encode() not in kept and NUMBER not in str(found)
    assert found["renkei.masked"] == "my_number"
    assert len(kept) == len(raw)  # masked in place: still decodable with its writer schema
