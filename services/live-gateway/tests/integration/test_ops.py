"""Health, readiness, metrics and shutdown of a gateway."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp
from structlog.testing import capture_logs

from archive_live_gateway.app import create_app, serve
from archive_live_gateway.settings import GatewaySettings
from twitch_archive.subjects import Names
from twitch_archive.testing.proxy import TcpProxy

if TYPE_CHECKING:
    from conftest import ClientFactory, Events, GatewayFactory


async def test_healthz_readyz_and_metrics(
    gateway: GatewayFactory, http: aiohttp.ClientSession, connect: ClientFactory
) -> None:
    """/healthz says alive, /readyz says NATS is connected, /metrics has the gateway's metrics."""
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha")
    async with http.get(f"{gw.http}/healthz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})
    async with http.get(f"{gw.http}/readyz") as response:
        assert response.status == 200
        assert (await response.json())["checks"] == {"nats": True}
    async with http.get(f"{gw.http}/metrics") as response:
        text = await response.text()
    assert "archive_live_gateway_connections 1.0" in text
    assert "archive_live_gateway_nats_subscriptions 1.0" in text
    assert 'archive_live_gateway_queue_capacity{queue="client_send"} 512.0' in text


async def test_readyz_follows_nats_and_delivery_resumes_after_an_outage(
    nats_url: str,
    gw_names: Names,
    tcp_proxy: Callable[[str], Awaitable[TcpProxy]],
    http: aiohttp.ClientSession,
    events: Events,
) -> None:
    """With NATS cut off /readyz answers 503 (/healthz 200); once back, watchers get events."""
    proxy = await tcp_proxy(nats_url)
    settings = GatewaySettings(nats_url=proxy.url_for(nats_url), nats_namespace=gw_names.ns)
    async with serve(create_app(settings), "127.0.0.1", 0) as port:

        async def readyz() -> int:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                return response.status

        async def wait_for_readyz(status: int) -> None:
            deadline = time.monotonic() + 15
            while await readyz() != status:
                assert time.monotonic() < deadline, f"/readyz never answered {status}"
                await asyncio.sleep(0.05)

        ws = await http.ws_connect(f"http://127.0.0.1:{port}/api/live")
        await ws.send_str('{"action": "subscribe", "channels": ["alpha"]}')
        assert (await ws.receive_json(timeout=5))["type"] == "subscribed"
        proxy.cut()
        await wait_for_readyz(503)
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
        proxy.restore()
        await wait_for_readyz(200)
        message = events.message("alpha")
        await events.publish(message)
        frame = await ws.receive_json(timeout=5)
        assert (frame["type"], frame["data"]["id"]) == ("message", message.id)
        await ws.close()


async def test_one_canonical_log_line_per_connection(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """A connection's lifetime ends in exactly one `connection_closed` line with its counters."""
    gw = await gateway()
    with capture_logs() as logs:
        client = await connect(gw)
        await client.subscribe("alpha", "beta")
        await client.ws.send_str("nope")
        assert await client.error() == "invalid_json"
        await client.ws.close()
        await gw.eventually(lambda: not gw.hub.clients, what="the connection to end")
    closed = [entry for entry in logs if entry["event"] == "connection_closed"]
    assert len(closed) == 1
    line = closed[0]
    assert line["reason"] == "client_closed"
    assert line["log_level"] == "info"
    assert (line["frames_in"], line["frames_refused"]) == (2, {"invalid_json": 1})
    assert (line["frames_out"], line["channels_max"], line["close_code"]) == (2, 2, 1000)


async def test_shutdown_closes_clients_with_1001(
    nats_url: str, gw_names: Names, http: aiohttp.ClientSession
) -> None:
    """Stopping a gateway sends its clients a 1001 going-away close frame."""
    settings = GatewaySettings(nats_url=nats_url, nats_namespace=gw_names.ns)
    app = create_app(settings)
    async with serve(app, "127.0.0.1", 0) as port:
        ws = await http.ws_connect(f"http://127.0.0.1:{port}/api/live")
    msg = await ws.receive(timeout=5)
    assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 1001, "going away")
    await ws.close()
