"""A TCP proxy that can cut every connection, so a test can kill a server without touching it.

asyncpg's fuzzer idea: put `TcpProxy` between a client and PostgreSQL or NATS, `cut()` to make the
server look dead (open connections close, new ones close at once), `restore()` to bring it back.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS: Final = {"postgres": 5432, "postgresql": 5432, "nats": 4222, "redis": 6379}
"""The port a URL of each scheme means when it names none."""

_CHUNK: Final = 64 * 1024
_CLOSE_TIMEOUT_S: Final = 1.0
_WILDCARD_HOSTS: Final = {"", "0.0.0.0", "::"}  # noqa: S104 - names, not a bind


@dataclasses.dataclass(eq=False, slots=True)
class _Link:
    """One proxied connection: the client's side and the target's side."""

    client: asyncio.StreamWriter
    target: asyncio.StreamWriter

    def abort(self) -> None:
        """Drop both sides at once, unsent data and all (what cut() does)."""
        self.client.transport.abort()
        self.target.transport.abort()

    async def close(self) -> None:
        """Close both sides after flushing what is buffered, aborting if that takes too long."""
        self.client.close()
        self.target.close()
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await asyncio.gather(
                    self.client.wait_closed(), self.target.wait_closed(), return_exceptions=True
                )
        except TimeoutError:
            self.abort()


class TcpProxy:
    """Forwards TCP connections from a local port to a target, and can cut them on demand.

    Counters for assertions: `connections_total` (forwarded), `connections_rejected` (closed at
    once because the proxy was cut or the target refused), `open_connections`, `bytes_to_target`
    and `bytes_to_client`.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self.port = listen_port
        """The port the proxy listens on; known after `start()` when 0 was asked for."""
        self.connections_total = 0
        self.connections_rejected = 0
        self.bytes_to_target = 0
        self.bytes_to_client = 0
        self._cut = False
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @classmethod
    def for_url(cls, url: str, listen_host: str = "127.0.0.1") -> TcpProxy:
        """A proxy (not yet started) in front of the server a postgres/nats/redis URL names."""
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"cannot proxy {url!r}: it names no TCP host")
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        if port is None:
            raise ValueError(f"cannot proxy {url!r}: no port and no default for {parts.scheme!r}")
        return cls(parts.hostname, port, listen_host=listen_host)

    @property
    def is_cut(self) -> bool:
        """Whether the proxy is cut (the target looks dead)."""
        return self._cut

    @property
    def open_connections(self) -> int:
        """Connections being forwarded right now."""
        return len(self._links)

    async def start(self) -> int:
        """Start listening; returns the port (also in `.port`)."""
        if self._server is not None:
            raise RuntimeError("TcpProxy.start() called twice")
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's; user, path and query are kept."""
        if self._server is None:
            raise RuntimeError("TcpProxy.url_for() needs start() first, to know the port")
        parts = urlsplit(url)
        userinfo, at, _ = parts.netloc.rpartition("@")
        host = "127.0.0.1" if self.listen_host in _WILDCARD_HOSTS else self.listen_host
        if ":" in host:
            host = f"[{host}]"
        return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}:{self.port}"))

    def cut(self) -> None:
        """Close every open connection both ways, and close new ones at once until `restore()`."""
        self._cut = True
        for link in list(self._links):
            link.abort()

    def restore(self) -> None:
        """Forward new connections again (connections closed by `cut()` stay closed)."""
        self._cut = False

    async def close(self) -> None:
        """Stop listening, close every connection and wait for the proxy's tasks to end."""
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.abort()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # start_server runs each callback in its own task
        self._handlers.add(task)
        try:
            await self._forward(reader, writer)
        finally:
            self._handlers.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing():
            self.connections_rejected += 1
            writer.transport.abort()
            return
        try:
            target_reader, target_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            # The target itself is down: the client sees what it would see without the proxy.
            self.connections_rejected += 1
            writer.transport.abort()
            return
        link = _Link(client=writer, target=target_writer)
        if self._refusing():  # cut or closed while we were connecting
            self.connections_rejected += 1
            link.abort()
            return
        self.connections_total += 1
        self._links.add(link)
        try:
            await _splice(
                self._pump(reader, target_writer, self._count_to_target),
                self._pump(target_reader, writer, self._count_to_client),
            )
        finally:
            self._links.discard(link)
            await link.close()

    def _refusing(self) -> bool:
        return self._cut or self._server is None

    def _count_to_target(self, size: int) -> None:
        self.bytes_to_target += size

    def _count_to_client(self, size: int) -> None:
        self.bytes_to_client += size

    @staticmethod
    async def _pump(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: Callable[[int], None]
    ) -> None:
        """Copy one direction until EOF or a broken connection; either ends the whole link."""
        try:
            while data := await reader.read(_CHUNK):
                count(len(data))
                writer.write(data)
                await writer.drain()
        except OSError:
            # Reset by a peer or aborted by cut(): the link is over, _forward closes both sides.
            return


async def _splice(*pumps: Coroutine[Any, Any, None]) -> None:
    """Run both directions; when the first ends, stop the other (the caller closes the sockets)."""
    tasks = [asyncio.create_task(pump) for pump in pumps]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
