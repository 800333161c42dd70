"""The composition root: `create_app(settings)` wires NATS, the bridge, the hub and the routes.

    NATS core subscriptions (watched channels only) -> bridge (decode + encode once)
        -> hub (watchers of the channel) -> each client's bounded queue -> outbox (one write
           per client per loop iteration) -> socket

Routes: GET /api/live (WebSocket), /healthz, /readyz (NATS connected), /metrics. Drain order on
SIGTERM: close every client with 1001, drop the NATS subscriptions, drain NATS.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from logging import INFO, WARNING
from typing import Final

import msgspec
import structlog
from aiohttp import WSMsgType, hdrs, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_websocket import WebSocketError, WSCloseCode
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from archive_live_gateway.client import (
    CLOSE_TIMEOUT_S,
    SHUTDOWN,
    Client,
    Outbox,
    Session,
)
from archive_live_gateway.hub import Hub
from archive_live_gateway.metrics import GatewayMetrics
from archive_live_gateway.nats_bridge import NatsBridge
from archive_live_gateway.settings import GatewaySettings
from twitch_archive.bus import connect_nats
from twitch_archive.lifecycle import Shutdown
from twitch_archive.ops import run_checks
from twitch_archive.subjects import Names

log = structlog.get_logger("archive_live_gateway.app")

SETTINGS: Final = web.AppKey("settings", GatewaySettings)
METRICS: Final = web.AppKey("metrics", GatewayMetrics)
HUB: Final = web.AppKey("hub", Hub)
NATS: Final = web.AppKey("nats", NatsClient)
BRIDGE: Final = web.AppKey("bridge", NatsBridge)
OUTBOX: Final = web.AppKey("outbox", Outbox)

HARD_FRAME_BYTES_MIN: Final = 64 * 1024
"""Client frames up to max(4 x MAX_FRAME_BYTES, this) are read and refused with an error frame;
larger ones are not buffered: aiohttp closes the connection with 1009."""


_LINGER_RESET: Final = struct.pack("ii", 1, 0)


def hard_frame_limit(settings: GatewaySettings) -> int:
    """The size beyond which a client frame closes the connection instead of being refused."""
    return max(4 * settings.max_frame_bytes, HARD_FRAME_BYTES_MIN)


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a page from `origin` may open the feed (no list, `*`, or no Origin header: yes)."""
    if origin is None or not allowed or "*" in allowed:
        return True
    wanted = origin.strip().rstrip("/").lower()
    return any(wanted == item.strip().rstrip("/").lower() for item in allowed)


def _json(status: int, body: dict[str, object]) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body), status=status, content_type="application/json"
    )


class WebSocketSink:
    """A client's socket: frames are written to the transport as they are (already framed)."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, writer: AbstractStreamWriter
    ) -> None:
        self._ws = ws
        self._transport = request.transport
        self._protocol = request.protocol
        self._writer = writer

    def write(self, data: bytes) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    @property
    def paused(self) -> bool:
        return self._protocol.writing_paused

    async def drain(self) -> None:
        await self._writer.drain()

    async def close(self, code: int, message: str) -> None:
        await self._ws.close(code=code, message=message.encode())

    def abort(self) -> None:
        transport = self._transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.fileno() != -1:
            # Reset rather than FIN: the kernel drops what the client never read, at once.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        transport.abort()


def _set_send_buffer(request: web.Request, size: int) -> None:
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


# ---------------------------------------------------------------------------------- /api/live


async def live(request: web.Request) -> web.StreamResponse:
    """GET /api/live: the WebSocket feed (protocol.py has the frames)."""
    app = request.app
    settings, metrics, hub = app[SETTINGS], app[METRICS], app[HUB]
    origin = request.headers.get(hdrs.ORIGIN)
    if not origin_allowed(origin, settings.allowed_origins):
        metrics.handshakes.labels("origin_refused").inc()
        log.info("connection_refused", reason="origin_not_allowed", origin=origin)
        return _json(
            403,
            {"error": "origin_not_allowed", "detail": f"origin {origin!r} may not open the feed"},
        )
    ws = web.WebSocketResponse(
        heartbeat=settings.heartbeat_s,
        max_msg_size=hard_frame_limit(settings),
        compress=False,  # frames are encoded once for every client: no per-client deflate
        timeout=CLOSE_TIMEOUT_S,
    )
    if not ws.can_prepare(request).ok:
        metrics.handshakes.labels("not_websocket").inc()
        return _json(
            400, {"error": "websocket_required", "detail": "GET /api/live needs a WebSocket"}
        )
    writer = await ws.prepare(request)
    metrics.handshakes.labels("accepted").inc()
    _set_send_buffer(request, settings.send_buffer_bytes)
    client = Client(
        WebSocketSink(ws, request, writer),
        app[OUTBOX],
        metrics,
        capacity=settings.send_queue_max,
    )
    session = Session(
        client,
        hub,
        app[BRIDGE],
        metrics,
        max_frame_bytes=settings.max_frame_bytes,
        max_subscriptions=settings.max_subscriptions,
        allow_firehose=settings.allow_firehose,
        frames_per_second=settings.client_frames_per_second,
    )
    structlog.contextvars.bind_contextvars(conn_id=client.conn_id, peer=request.remote)
    hub.connect(client)
    started = time.monotonic()
    too_large = False
    try:
        async for msg in ws:
            if client.closing is not None:
                continue  # being closed: what the client still says no longer matters
            if msg.type is WSMsgType.TEXT:
                await session.on_text(msg.data)
            elif msg.type is WSMsgType.BINARY:
                session.on_binary()
            elif msg.type is WSMsgType.ERROR:
                too_large = (
                    isinstance(msg.data, WebSocketError)
                    and msg.data.code == WSCloseCode.MESSAGE_TOO_BIG
                )
                break
    finally:
        app[BRIDGE].request_sync(hub.disconnect(client))
        await client.closed()
    _log_end(client, session, ws, too_large=too_large, started=started, origin=origin)
    return ws


def _log_end(
    client: Client,
    session: Session,
    ws: web.WebSocketResponse,
    *,
    too_large: bool,
    started: float,
    origin: str | None,
) -> None:
    """Count a drop the gateway did not start itself, and write the connection's one log line."""
    metrics = session.metrics
    if client.closing is not None:
        reason = client.closing.label
    elif isinstance(ws.exception(), TimeoutError):
        reason = "heartbeat"
        metrics.clients_dropped.labels(reason).inc()
    elif too_large:
        reason = "frame_too_large"
        metrics.clients_dropped.labels(reason).inc()
    else:
        reason = "client_closed"
    # The code the gateway sent when it closed, else the one the client (or aiohttp) gave.
    close_code = client.closing.code if client.closing is not None else ws.close_code
    stats = session.stats
    log.log(
        INFO if reason in ("client_closed", "shutdown") else WARNING,
        "connection_closed",
        origin=origin,
        reason=reason,
        close_code=None if close_code is None else int(close_code),
        duration_s=round(time.monotonic() - started, 3),
        frames_in=stats.frames_in,
        frames_refused=stats.refused or {},
        frames_out=client.frames_out,
        bytes_out=client.bytes_out,
        channels_max=stats.max_channels,
        queue_max=client.max_queued,
    )


# ---------------------------------------------------------------------------------- ops


async def healthz(_: web.Request) -> web.Response:
    """The process is alive."""
    return _json(200, {"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """NATS is connected (events can flow)."""
    nc = request.app.get(NATS)

    async def nats_connected() -> bool:
        return nc is not None and nc.is_connected

    results = await run_checks({"nats": nats_connected})
    ready = all(results.values())
    return _json(
        200 if ready else 503,
        {"status": "ready" if ready else "not_ready", "checks": results},
    )


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Prometheus text format."""
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


# ---------------------------------------------------------------------------------- lifecycle


async def _nats_context(app: web.Application) -> AsyncIterator[None]:
    """Connect NATS and build the bridge and the outbox; on cleanup, unsubscribe and drain."""
    settings, metrics, hub = app[SETTINGS], app[METRICS], app[HUB]
    bridge: NatsBridge | None = None

    async def on_error(exc: Exception) -> None:
        if bridge is not None:
            await bridge.on_nats_error(exc)

    nc = await connect_nats(settings.nats_url, name="archive-live-gateway", error_cb=on_error)
    bridge = NatsBridge(
        nc,
        Names(ns=settings.nats_namespace),
        hub,
        metrics,
        pending_msgs=settings.nats_pending_msgs,
        pending_bytes=settings.nats_pending_bytes,
    )
    app[NATS], app[BRIDGE] = nc, bridge
    app[OUTBOX] = Outbox(
        metrics, asyncio.get_running_loop(), interval_s=settings.flush_interval_ms / 1000
    )
    metrics.watch_queues(
        depth={"client_send": hub.queued_frames, "nats": bridge.pending_events},
        capacity={"client_send": hub.queue_capacity, "nats": bridge.pending_capacity},
        fullest=hub.fullest_queue,
    )
    try:
        yield
    finally:
        await bridge.close()
        if not nc.is_closed:
            try:
                await asyncio.wait_for(nc.drain(), settings.shutdown_timeout_s)
            except (TimeoutError, NatsError) as exc:  # e.g. still reconnecting: just close
                log.warning("nats_drain_failed", error=repr(exc))
                await nc.close()


async def _close_clients(app: web.Application) -> None:
    """On shutdown, send every client a 1001 close frame and wait (bounded) for them to go."""
    clients = list(app[HUB].clients)
    for client in clients:
        client.drop(SHUTDOWN)
    if clients:
        await asyncio.wait(
            [asyncio.ensure_future(client.closed()) for client in clients],
            timeout=app[SETTINGS].shutdown_timeout_s,
        )


def create_app(
    settings: GatewaySettings, registry: CollectorRegistry | None = None
) -> web.Application:
    """The gateway's aiohttp application (no I/O until it starts)."""
    app = web.Application()
    metrics = GatewayMetrics(registry if registry is not None else CollectorRegistry())
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[HUB] = Hub(metrics)
    app.cleanup_ctx.append(_nats_context)
    app.on_shutdown.append(_close_clients)
    app.router.add_get("/api/live", live)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


@asynccontextmanager
async def serve(app: web.Application, host: str, port: int) -> AsyncIterator[int]:
    """Serve `app` for the duration of the block; yields the bound port (0 picks one)."""
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=app[SETTINGS].shutdown_timeout_s,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        sockets = runner.addresses
        yield int(sockets[0][1]) if sockets else port
    finally:
        await runner.cleanup()


async def run(settings: GatewaySettings) -> int:
    """Serve until SIGTERM or SIGINT, then close clients and drain NATS; returns the exit code."""
    shutdown = Shutdown()
    shutdown.install()
    try:
        async with serve(create_app(settings), settings.gateway_host, settings.gateway_port) as p:
            log.info("gateway_started", host=settings.gateway_host, port=p)
            await shutdown.wait()
    finally:
        shutdown.uninstall()
    log.info("gateway_stopped")
    return 0
