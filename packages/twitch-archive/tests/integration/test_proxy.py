"""TcpProxy forwards bytes, and cut()/restore() make a server look dead and alive again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NatsClient

from twitch_archive.subjects import Names
from twitch_archive.testing.proxy import TcpProxy

ProxyFactory = Callable[[str], Awaitable[TcpProxy]]

# What a client may see when its server vanishes mid-conversation, depending on timing: a reset,
# an EOF asyncpg reports as a dropped connection, or asyncpg's own interface error.
CONNECTION_LOST = (OSError, asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError)


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    """A local echo server, so the proxy can be tested without any real server."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1024):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            return  # the proxy aborted us: nothing left to echo to
        finally:
            writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def roundtrip(port: int, payload: bytes) -> bytes:
    """Send `payload` to 127.0.0.1:port and read the same number of bytes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await reader.readexactly(len(payload))
    finally:
        writer.close()
        await writer.wait_closed()


async def closed_by_peer(reader: asyncio.StreamReader) -> bool:
    """Whether the other side closed or reset the connection (within a second)."""
    try:
        async with asyncio.timeout(1):
            return await reader.read(1) == b""
    except ConnectionError:
        return True


class TestEcho:
    async def test_forwards_both_ways_and_counts(self, echo_port: int) -> None:
        """Bytes go through the proxy unchanged, and the counters see them both ways."""
        async with TcpProxy("127.0.0.1", echo_port) as proxy:
            assert await roundtrip(proxy.port, b"hello" * 1000) == b"hello" * 1000
            assert proxy.connections_total == 1
            assert proxy.bytes_to_target == proxy.bytes_to_client == 5000

    async def test_cut_closes_open_connections_and_refuses_new_ones(self, echo_port: int) -> None:
        """After cut() an open connection is closed and a new one is closed at once."""
        async with TcpProxy("127.0.0.1", echo_port) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"ping")
            assert await reader.readexactly(4) == b"ping"
            assert proxy.open_connections == 1

            proxy.cut()
            assert proxy.is_cut
            assert await closed_by_peer(reader)
            writer.close()

            late_reader, late_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            assert await closed_by_peer(late_reader)
            late_writer.close()
            assert proxy.connections_rejected == 1
            assert proxy.open_connections == 0

    async def test_restore_lets_new_connections_through(self, echo_port: int) -> None:
        """After restore() a new connection works again."""
        async with TcpProxy("127.0.0.1", echo_port) as proxy:
            proxy.cut()
            proxy.restore()
            assert await roundtrip(proxy.port, b"again") == b"again"
            assert proxy.connections_total == 1

    async def test_target_down_closes_the_client(self) -> None:
        """When the target refuses, the client's connection is closed, as without the proxy."""
        async with TcpProxy("127.0.0.1", 1) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            assert await closed_by_peer(reader)
            writer.close()
            assert proxy.connections_rejected == 1

    async def test_close_ends_open_connections(self, echo_port: int) -> None:
        """close() returns even with a client still connected, and that client is closed."""
        proxy = TcpProxy("127.0.0.1", echo_port)
        await proxy.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"x")
        assert await reader.readexactly(1) == b"x"
        await proxy.close()
        assert await closed_by_peer(reader)
        writer.close()


class TestUrls:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            pytest.param(
                "postgresql://postgres:secret@db.example:5432/archive?sslmode=disable",
                "postgresql://postgres:secret@127.0.0.1:{port}/archive?sslmode=disable",
                id="postgres:user-password-query",
            ),
            pytest.param("nats://127.0.0.1:4222", "nats://127.0.0.1:{port}", id="nats"),
            pytest.param("redis://h/0", "redis://127.0.0.1:{port}/0", id="redis:no-port"),
        ],
    )
    async def test_url_for_points_at_the_proxy(self, url: str, expected: str) -> None:
        """url_for swaps host and port for the proxy's and keeps everything else."""
        async with TcpProxy("127.0.0.1", 1) as proxy:
            assert proxy.url_for(url) == expected.format(port=proxy.port)

    @pytest.mark.parametrize(
        ("url", "address"),
        [
            pytest.param("postgresql://u@db:6543/x", ("db", 6543), id="explicit-port"),
            pytest.param("postgresql://u@db/x", ("db", 5432), id="postgres-default"),
            pytest.param("nats://n", ("n", 4222), id="nats-default"),
            pytest.param("redis://r/0", ("r", 6379), id="redis-default"),
        ],
    )
    def test_for_url_targets_the_urls_server(self, url: str, address: tuple[str, int]) -> None:
        """for_url aims the proxy at the host and port the URL names, or the scheme's default."""
        proxy = TcpProxy.for_url(url)
        assert (proxy.target_host, proxy.target_port) == address

    def test_url_for_needs_a_started_proxy(self) -> None:
        """Before start() the port is unknown, so url_for refuses rather than guess."""
        with pytest.raises(RuntimeError, match="start"):
            TcpProxy("127.0.0.1", 1).url_for("nats://127.0.0.1:4222")


class TestPostgres:
    async def test_cut_fails_queries_and_restore_recovers(
        self, pg_url: str, tcp_proxy: ProxyFactory
    ) -> None:
        """A query through the proxy works, fails after cut(), and works again after restore()."""
        proxy = await tcp_proxy(pg_url)
        url = proxy.url_for(pg_url)

        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT 1") == 1
            proxy.cut()
            with pytest.raises(CONNECTION_LOST):
                await conn.fetchval("SELECT 1")
        finally:
            conn.terminate()

        with pytest.raises(CONNECTION_LOST):
            await asyncpg.connect(url, timeout=5)

        proxy.restore()
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT 2") == 2
        finally:
            await conn.close()
        assert proxy.connections_total == 2
        assert proxy.connections_rejected >= 1


class TestNats:
    async def test_client_reconnects_after_restore_and_publishes(
        self, nats_url: str, nc: NatsClient, names: Names, tcp_proxy: ProxyFactory
    ) -> None:
        """Through the proxy, nats-py survives cut(), reconnects after restore() and publishes."""
        proxy = await tcp_proxy(nats_url)
        disconnected, reconnected = asyncio.Event(), asyncio.Event()

        async def on_disconnect() -> None:
            disconnected.set()

        async def on_reconnect() -> None:
            reconnected.set()

        subject = names.chat_subject("proxytest", "message")
        received = await nc.subscribe(subject)
        await nc.flush()

        client = await nats.connect(
            proxy.url_for(nats_url),
            reconnect_time_wait=0.1,
            max_reconnect_attempts=-1,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
        )
        try:
            await client.publish(subject, b"before")
            await client.flush(timeout=5)
            assert (await received.next_msg(timeout=5)).data == b"before"

            proxy.cut()
            async with asyncio.timeout(10):
                await disconnected.wait()
            assert not client.is_connected

            proxy.restore()
            async with asyncio.timeout(10):
                await reconnected.wait()
            await client.publish(subject, b"after")
            await client.flush(timeout=5)
            assert (await received.next_msg(timeout=5)).data == b"after"
        finally:
            await client.drain()
        assert proxy.connections_total >= 2
