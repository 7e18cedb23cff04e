"""A loopback TCP proxy that can cut its clients off the brokers and heal them again.

Scenario i (docs/reliability.md) needs one worker cut off from every broker while the others
go on. The brokers advertise 127.0.0.1, so another network namespace cannot reach them, and
firewall rules need privileges CI lacks. Instead each broker of the private cluster has a
second listener (``SIDE``) advertised at a port of this proxy (``cluster_nodes(side=True)``):
a worker bootstrapped at the side ports learns only proxy addresses from the metadata, so all
of its traffic, and only its traffic, crosses the proxy.

Two ways to cut:

- ``blackhole`` (a network partition): connections stay open, but nothing crosses in either
  direction; bytes sent are dropped, new connections are accepted and then hear nothing. The
  client notices only through its own timeouts, as with a pulled cable. On :meth:`heal` every
  connection that lived through the cut is closed (its byte stream lost data) and new ones are
  forwarded again;
- ``refuse``: every connection is closed at once and the listening sockets are shut, so new
  connections are refused (a broker host that is gone) until :meth:`heal` opens them again.

The proxy runs its own asyncio loop in a thread, so a scenario drives it from plain code.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

HOST = "127.0.0.1"
CHUNK = 64 * 1024
Mode = Literal["blackhole", "refuse"]


@dataclass(eq=False)
class _Link:
    """One client connection and its upstream connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    severed: bool = False
    """Lived through a cut: it is closed on heal, never forwarded again."""

    def close(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None and not writer.is_closing():
                writer.close()


@dataclass
class CutOffProxy:
    """Forward ``routes`` (listen port → broker port) on loopback; :meth:`cut` and :meth:`heal`."""

    routes: dict[int, int]
    counts: Counter[str] = field(default_factory=Counter)
    mode: Mode | None = None
    """How the proxy is cut right now (None: forwarding)."""

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []
        self._links: set[_Link] = set()
        self._healed = asyncio.Event()

    # -- driving it from the test thread -------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def cut(self, mode: Mode = "blackhole") -> None:
        """Cut every client of the proxy off its broker, ``mode`` as described above."""
        self._call(self._cut(mode))

    def heal(self) -> None:
        """Forward again: connections that lived through the cut are closed first."""
        self._call(self._heal())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _call(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)  # type: ignore[arg-type]

    # -- inside the proxy's loop -----------------------------------------------------------

    async def _listen(self) -> None:
        for listen, target in self.routes.items():

            async def handle(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: int = target
            ) -> None:
                await self._serve(reader, writer, target)

            server = await asyncio.start_server(handle, HOST, listen, reuse_address=True)
            self._servers.append(server)

    async def _cut(self, mode: Mode) -> None:
        self.mode = mode
        self._healed.clear()
        self.counts["cuts"] += 1
        for link in list(self._links):
            link.severed = True
            if mode == "refuse":
                link.close()
        if mode == "refuse":
            await self._unlisten()

    async def _heal(self) -> None:
        mode, self.mode = self.mode, None
        for link in list(self._links):
            if link.severed:
                self.counts["closed on heal"] += 1
                link.close()
        if mode == "refuse":
            await self._listen()
        self._healed.set()

    async def _unlisten(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
            await server.wait_closed()

    async def _close_all(self) -> None:
        for link in list(self._links):
            link.close()
        await self._unlisten()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: int
    ) -> None:
        link = _Link(writer)
        self._links.add(link)
        self.counts["connections"] += 1
        try:
            if self.mode is not None:  # accepted during a blackhole: silence until healed
                link.severed = True
                self.counts["held silent"] += 1
                await self._drain_until_healed(reader)
                return
            try:
                up_reader, link.upstream = await asyncio.open_connection(HOST, target)
            except OSError:
                self.counts["upstream refused"] += 1
                return
            await asyncio.gather(
                self._pump(reader, link.upstream, link),
                self._pump(up_reader, writer, link),
            )
        finally:
            link.close()
            self._links.discard(link)

    async def _pump(
        self, source: asyncio.StreamReader, target: asyncio.StreamWriter, link: _Link
    ) -> None:
        try:
            while not link.severed:
                data = await source.read(CHUNK)
                if not data:
                    break
                if link.severed:  # cut while this read waited: the bytes are dropped
                    self.counts["bytes dropped"] += len(data)
                    await self._drain_until_healed(source)
                    break
                target.write(data)
                await target.drain()
                self.counts["bytes forwarded"] += len(data)
            if link.severed:
                await self._drain_until_healed(source)
        except (ConnectionError, OSError):
            pass
        finally:
            link.close()

    async def _drain_until_healed(self, source: asyncio.StreamReader) -> None:
        """Read and drop whatever the peer sends until the proxy heals (or it hangs up)."""
        healed = asyncio.ensure_future(self._healed.wait())
        try:
            while not healed.done():
                read = asyncio.ensure_future(source.read(CHUNK))
                done, _ = await asyncio.wait({read, healed}, return_when=asyncio.FIRST_COMPLETED)
                if read in done:
                    data = read.result()
                    if not data:
                        return
                    self.counts["bytes dropped"] += len(data)
                else:
                    read.cancel()
        except (ConnectionError, OSError):
            return
        finally:
            healed.cancel()
