"""The Kafka protocol readiness check, against a scripted fake broker on a real socket."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from renkei.errors import StackError
from renkei.stack.kafka_probe import (
    API_METADATA,
    API_VERSIONS,
    decode_metadata_v4,
    encode_request,
    port_in_use,
    probe_kafka,
)


def _string(text: str | None) -> bytes:
    if text is None:
        return struct.pack(">h", -1)
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def _api_versions_response(correlation_id: int, metadata_max: int = 12) -> bytes:
    apis = [(API_METADATA, 0, metadata_max), (API_VERSIONS, 0, 4)]
    body = struct.pack(">ihi", correlation_id, 0, len(apis))
    body += b"".join(struct.pack(">hhh", *api) for api in apis)
    return body


def _metadata_response(correlation_id: int, brokers: int, controller: int) -> bytes:
    body = struct.pack(">iii", correlation_id, 0, brokers)
    for node in range(1, brokers + 1):
        body += struct.pack(">i", node) + _string("127.0.0.1") + struct.pack(">i", 9092)
        body += _string(None)
    body += _string("ry5qrohvTE-nPuNCicDQ0g") + struct.pack(">ii", controller, 0)
    return body


@pytest.fixture
def fake_broker(request: pytest.FixtureRequest) -> Iterator[tuple[int, list[tuple[int, int]]]]:
    """A one-connection server answering ApiVersions then Metadata; yields (port, requests)."""
    brokers, controller, metadata_max = getattr(request, "param", (1, 1, 12))
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[tuple[int, int]] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            for _ in range(2):
                size = struct.unpack(">i", conn.recv(4))[0]
                request_bytes = b""
                while len(request_bytes) < size:
                    request_bytes += conn.recv(size - len(request_bytes))
                api_key, version, correlation = struct.unpack_from(">hhi", request_bytes)
                seen.append((api_key, version))
                if api_key == API_VERSIONS:
                    answer = _api_versions_response(correlation, metadata_max)
                else:
                    answer = _metadata_response(correlation, brokers, controller)
                conn.sendall(struct.pack(">i", len(answer)) + answer)
                if api_key == API_VERSIONS and metadata_max < 4:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    server.close()
    thread.join(5)


def test_request_framing_matches_the_kafka_wire_format() -> None:
    frame = encode_request(API_VERSIONS, 0, 7, b"")
    size, api_key, version, correlation, client_len = struct.unpack_from(">ihhih", frame)
    assert (api_key, version, correlation) == (18, 0, 7)
    assert size == len(frame) - 4
    assert frame[14 : 14 + client_len] == b"renkei-stack"


def test_ready_broker_reports_itself_and_the_controller(
    fake_broker: tuple[int, list[tuple[int, int]]],
) -> None:
    port, seen = fake_broker
    probe = probe_kafka("127.0.0.1", port)
    assert probe.ready
    assert probe.cluster_id == "ry5qrohvTE-nPuNCicDQ0g"
    assert [broker.port for broker in probe.brokers] == [9092]
    assert seen == [(API_VERSIONS, 0), (API_METADATA, 4)]


@pytest.mark.parametrize("fake_broker", [(0, -1, 12)], indirect=True)
def test_broker_not_yet_registered_is_not_ready(
    fake_broker: tuple[int, list[tuple[int, int]]],
) -> None:
    assert not probe_kafka("127.0.0.1", fake_broker[0]).ready


@pytest.mark.parametrize("fake_broker", [(1, 1, 3)], indirect=True)
def test_a_server_without_metadata_v4_is_refused(
    fake_broker: tuple[int, list[tuple[int, int]]],
) -> None:
    with pytest.raises(StackError, match="Metadata v4"):
        probe_kafka("127.0.0.1", fake_broker[0])


def test_metadata_decoding_reads_every_broker() -> None:
    probe = decode_metadata_v4(_metadata_response(2, brokers=3, controller=2), api_count=60)
    assert [b.node_id for b in probe.brokers] == [1, 2, 3] and probe.controller_id == 2


def test_an_http_server_is_not_mistaken_for_kafka() -> None:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(StackError, match="not a Kafka response"):
            probe_kafka("127.0.0.1", server.getsockname()[1])
    finally:
        server.close()
        thread.join(5)


def test_nothing_listening_is_a_clear_error_and_a_free_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    with pytest.raises(StackError, match=f"no Kafka broker answers on 127.0.0.1:{port}"):
        probe_kafka("127.0.0.1", port, timeout=1)
    assert not port_in_use("127.0.0.1", port)
