"""An in-memory Confluent-compatible registry behind httpx.MockTransport, counting requests."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import httpx

from renkei.serde.avro import schema_text
from renkei.serde.registry import RegistryClient
from renkei.serde.wire import frame

URL = "http://registry.test/apis/ccompat/v7"


class FakeRegistry:
    def __init__(self) -> None:
        self.schemas: dict[int, str] = {}
        self.subjects: dict[str, list[int]] = {}
        self.requests: list[str] = []
        self.down = False

    def add(self, subject: str, schema: dict[str, Any], schema_id: int | None = None) -> int:
        schema_id = schema_id or len(self.schemas) + 1
        self.schemas[schema_id] = schema_text(schema)
        self.subjects.setdefault(subject, []).append(schema_id)
        return schema_id

    def client(self) -> RegistryClient:
        return RegistryClient(URL, transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/apis/ccompat/v7")
        self.requests.append(f"{request.method} {path}")
        if self.down:
            return httpx.Response(503, json={"message": "unavailable"})
        parts = path.strip("/").split("/")
        if request.method == "GET" and parts[:2] == ["schemas", "ids"]:
            text = self.schemas.get(int(parts[2]))
            if text is None:
                return httpx.Response(404, json={"error_code": 40403, "message": "not found"})
            return httpx.Response(200, json={"schema": text})
        if (
            request.method == "GET"
            and parts[0] == "subjects"
            and parts[2:] == ["versions", "latest"]
        ):
            ids = self.subjects.get(parts[1])
            if not ids:
                return httpx.Response(404, json={"error_code": 40401, "message": "no subject"})
            return httpx.Response(
                200, json={"id": ids[-1], "version": len(ids), "schema": self.schemas[ids[-1]]}
            )
        if request.method == "POST" and parts[0] == "subjects" and len(parts) == 2:
            wanted = json.loads(request.content)["schema"]
            for schema_id in self.subjects.get(parts[1], []):
                if self.schemas[schema_id] == wanted:
                    return httpx.Response(200, json={"id": schema_id, "version": 1})
            return httpx.Response(404, json={"error_code": 40403, "message": "not found"})
        return httpx.Response(400, json={"message": f"unexpected {request.method} {path}"})


def encode(schema: dict[str, Any], schema_id: int, datum: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), datum)
    return frame(schema_id, buffer.getvalue())
