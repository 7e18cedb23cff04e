"""CloudEvents 1.0 binary-mode Kafka headers for department events.

In binary mode the record value stays the Avro payload and the event attributes travel as
``ce_*`` headers, so any Kafka consumer can read the value and CloudEvents-aware ones the metadata.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

CONTENT_TYPE = "application/avro"


def cloudevent_headers(
    *, event_id: str, source: str, event_type: str, time: dt.datetime, dataschema: str | None
) -> list[tuple[str, bytes]]:
    """The binary-mode headers of one event (values UTF-8 encoded)."""
    headers = {
        "ce_specversion": "1.0",
        "ce_id": event_id,
        "ce_source": source,
        "ce_type": event_type,
        "ce_time": time.isoformat(),
        "content-type": CONTENT_TYPE,
    }
    if dataschema:
        headers["ce_dataschema"] = dataschema
    return [(name, value.encode("utf-8")) for name, value in headers.items()]


def headers_as_dict(headers: Any) -> dict[str, str]:
    """Decode Kafka headers (a list of (name, bytes)) for display."""
    return {name: (value or b"").decode("utf-8", "replace") for name, value in headers or []}
