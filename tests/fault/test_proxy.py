"""The cut-off proxy of scenario i, against a loopback echo server (no broker needed)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.fault.proxy import CutOffProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def proxied() -> Iterator[tuple[CutOffProxy, int]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    listen = _free_port()
    proxy = CutOffProxy({listen: server.server_address[1]})
    proxy.start()
    try:
        yield proxy, listen
    finally:
        proxy.stop()
        server.shutdown()
        server.server_close()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    sock.settimeout(1.0)
    return sock


def _echoes(sock: socket.socket, payload: bytes = b"ping") -> bool:
    try:
        sock.sendall(payload)
        return sock.recv(4096) == payload
    except TimeoutError:
        return False


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_blackhole_silences_old_and_new_connections_until_healed(
    proxied: tuple[CutOffProxy, int],
) -> None:
    proxy, port = proxied
    before = _connect(port)
    assert _echoes(before)
    proxy.cut("blackhole")
    assert not _echoes(before)  # open, but nothing comes back
    during = _connect(port)  # accepted ...
    assert not _echoes(during)  # ... and silent
    proxy.heal()
    assert _closed(before) and _closed(during)  # their streams lost bytes: closed on heal
    after = _connect(port)
    assert _echoes(after)
    assert proxy.counts["bytes dropped"] >= 8 and proxy.counts["closed on heal"] == 2
    for sock in (before, during, after):
        sock.close()


def test_refuse_closes_connections_and_refuses_new_ones_until_healed(
    proxied: tuple[CutOffProxy, int],
) -> None:
    proxy, port = proxied
    before = _connect(port)
    assert _echoes(before)
    proxy.cut("refuse")
    assert _closed(before)
    with pytest.raises(ConnectionRefusedError):
        _connect(port)
    proxy.heal()
    after = _connect(port)
    assert _echoes(after)
    before.close()
    after.close()
