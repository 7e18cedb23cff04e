"""A view record is a new record (issue 12, finding 3): its own headers and ids, nothing copied
from the source — on main the runtime copied the source's ``ce_id``, ``ce_type`` and any vendor
header into every view, so two purposes shared a join key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from renkei.identifiers.mynumber import my_number_check_digit
from renkei.runtime.records import SourceRecord
from renkei.schemas.jsonform import to_datum
from renkei.stages.standardize.stage import standardize_step
from renkei.stages.views.pseudonym import load_or_create_key
from renkei.stages.views.stage import view_output
from tests.stages import factories as f
from tests.stages.views.harness import view_plans

SOURCE = "derived.evacuation-support"
NUMBER = "98765432109" + str(my_number_check_digit("98765432109"))
SOURCE_HEADERS = (
    ("ce_specversion", b"1.0"),
    ("ce_id", b"2f0c9a6e-dept-event"),
    ("ce_source", b"kaigo-vendor-x"),
    ("ce_type", b"jp.renkei.welfare.care.certification"),
    ("ce_time", b"2026-07-01T10:00:00+09:00"),
    ("x-vendor-trace", b"trace-7781"),
    ("ce_dataschema", b"http://registry/schemas/ids/3"),
)


def _record() -> SourceRecord:
    return SourceRecord(
        topic=f"t.{SOURCE}",
        contract_topic=SOURCE,
        partition=1,
        offset=42,
        key=b"A1:011011:0640941",
        value=b"",
        headers=SOURCE_HEADERS,
    )


def _value() -> dict[str, Any]:
    spec = f.spec(SOURCE)
    (example,) = list(spec.examples.values())[:1]
    return dict(to_datum(spec.schema, example))


def test_two_purposes_share_no_header_and_no_id(tmp_path: Path) -> None:
    plans = [p for p in view_plans() if p.source.topic == SOURCE]
    assert len(plans) >= 2
    value = _value()
    outputs = [
        view_output(p, load_or_create_key(tmp_path, p.purpose), _record(), value) for p in plans
    ]
    source_values = {v for _, v in SOURCE_HEADERS}
    for plan, output in zip(plans, outputs, strict=True):
        assert output.headers is not None  # its own: the runtime copies nothing then
        headers = dict(output.headers)
        assert set(headers) == {"ce_specversion", "ce_id", "ce_source", "ce_type", "content-type"}
        assert headers["ce_type"] == f"jp.renkei.view.{plan.purpose}".encode()
        assert not (set(headers.values()) - {b"1.0"}) & source_values
        if "event_id" in output.value:
            assert str(output.value["event_id"]) != str(value["event_id"])
    ids = [dict(o.headers or ())["ce_id"] for o in outputs]
    assert len(set(ids)) == len(ids)
    event_ids = [str(o.value.get("event_id")) for o in outputs if "event_id" in o.value]
    assert len(set(event_ids)) == len(event_ids)
    # the same source record gives the same id again (a redelivery), within one purpose
    again = view_output(plans[0], load_or_create_key(tmp_path, plans[0].purpose), _record(), value)
    assert dict(again.headers or ())["ce_id"] == ids[0]


class _Result:
    def __init__(self, value: dict[str, Any]) -> None:
        self.value, self.corrected_fields = value, ()


def test_standardize_keeps_only_cloudevents_headers() -> None:
    record = SourceRecord(
        "t.health.checkup.results",
        "health.checkup.results",
        0,
        1,
        b"k",
        b"",
        headers=SOURCE_HEADERS,
    )
    step = standardize_step(lambda t, v: _Result({"x": 1}), clock=lambda: dt.datetime.now(dt.UTC))
    (output,) = step(record, {"x": 1})
    names = [n for n, _ in output.headers or ()]
    assert "x-vendor-trace" not in names and "ce_dataschema" not in names
    assert names == ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"]


def test_standardize_refuses_a_my_number_in_any_header() -> None:
    import pytest

    from renkei.normalize.errors import MyNumberRefused
    from renkei.runtime.records import Output

    def standard_headers(headers: Any) -> list[tuple[str, bytes]]:
        """The headers the standardize step writes for a record carrying ``headers``."""
        record = SourceRecord("t.x", "health.checkup.results", 0, 1, b"k", b"", headers=headers)
        step = standardize_step(lambda t, v: _Result({}), clock=lambda: dt.datetime.now(dt.UTC))
        outputs: list[Output] = step(record, {})
        return list(outputs[0].headers or ())

    for header in (
        ("x-vendor-subject", NUMBER.encode()),
        ("ce_subject", f"マイナンバー:{NUMBER}".encode()),
    ):
        with pytest.raises(MyNumberRefused) as refused:
            standard_headers((*SOURCE_HEADERS, header))
        assert NUMBER not in str(refused.value) and header[0] not in str(refused.value)
