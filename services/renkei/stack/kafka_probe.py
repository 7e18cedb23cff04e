"""A Kafka protocol check with nothing but a socket: ApiVersions, then Metadata.

A listening TCP port is not a ready broker: KRaft opens its listener before the broker has
registered with the controller. The broker is ready when a Metadata response lists at least one
broker and names the active controller. Both requests use non-flexible versions accepted by
Kafka 3.x and 4.x alike (4.0 dropped Metadata v0–v3, so Metadata v4 is used).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from renkei.errors import StackError

API_METADATA = 3
API_VERSIONS = 18
METADATA_VERSION = 4
CLIENT_ID = b"renkei-stack"
_MAX_RESPONSE = 16 * 1024 * 1024


@dataclass(frozen=True)
class BrokerInfo:
    node_id: int
    host: str
    port: int


@dataclass(frozen=True)
class KafkaProbe:
    """What the broker said about itself."""

    api_count: int
    brokers: tuple[BrokerInfo, ...]
    cluster_id: str | None
    controller_id: int

    @property
    def ready(self) -> bool:
        return bool(self.brokers) and self.controller_id >= 0


class _Reader:
    """Big-endian primitives of the (non-flexible) Kafka wire format."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        raw = self.data[self.offset : self.offset + length]
        self.offset += length
        return raw.decode("utf-8", errors="replace")


def encode_request(api_key: int, api_version: int, correlation_id: int, body: bytes) -> bytes:
    """Size-prefixed request with header v1 (api key, version, correlation id, client id)."""
    header = struct.pack(">hhih", api_key, api_version, correlation_id, len(CLIENT_ID)) + CLIENT_ID
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def decode_api_versions(payload: bytes) -> tuple[int, dict[int, tuple[int, int]]]:
    """ApiVersions v0 response (after the size): (error code, {api key: (min, max)})."""
    reader = _Reader(payload)
    reader.take(">i")  # correlation id
    error = reader.take(">h")
    versions: dict[int, tuple[int, int]] = {}
    for _ in range(max(0, reader.take(">i"))):
        key = reader.take(">h")
        versions[key] = (reader.take(">h"), reader.take(">h"))
    return error, versions


def decode_metadata_v4(payload: bytes, api_count: int) -> KafkaProbe:
    """Metadata v4 response (after the size); the topic list (empty, none asked) is ignored."""
    reader = _Reader(payload)
    reader.take(">i")  # correlation id
    reader.take(">i")  # throttle time
    brokers = []
    for _ in range(max(0, reader.take(">i"))):
        node_id = reader.take(">i")
        host = reader.string() or ""
        port = reader.take(">i")
        reader.string()  # rack
        brokers.append(BrokerInfo(node_id, host, port))
    cluster_id = reader.string()
    controller_id = reader.take(">i")
    return KafkaProbe(api_count, tuple(brokers), cluster_id, controller_id)


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    sock.sendall(request)
    size = struct.unpack(">i", _receive(sock, 4))[0]
    if not 0 < size <= _MAX_RESPONSE:
        # e.g. an HTTP server answering "HTTP/1.1 400": those bytes read as a huge size.
        raise ConnectionError("the answer is not a Kafka response")
    return _receive(sock, size)


def _receive(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        chunks += chunk
    return bytes(chunks)


def probe_kafka(host: str, port: int, *, timeout: float = 3.0) -> KafkaProbe:
    """Ask the broker at ``host:port`` for its API versions and cluster metadata.

    Raises StackError when nothing listens or what listens does not speak Kafka.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            error, versions = decode_api_versions(
                _exchange(sock, encode_request(API_VERSIONS, 0, 1, b""))
            )
            if error != 0:
                raise StackError(f"{host}:{port} refused ApiVersions (error code {error})")
            low, high = versions.get(API_METADATA, (0, -1))
            if not low <= METADATA_VERSION <= high:
                raise StackError(f"{host}:{port} does not offer Metadata v{METADATA_VERSION}")
            # Empty topic list (not null): no topics asked; no auto-creation.
            body = struct.pack(">ib", 0, 0)
            metadata = _exchange(sock, encode_request(API_METADATA, METADATA_VERSION, 2, body))
            return decode_metadata_v4(metadata, len(versions))
    except (OSError, struct.error, ConnectionError) as exc:
        raise StackError(f"no Kafka broker answers on {host}:{port} ({exc})") from exc


def port_in_use(host: str, port: int, *, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
