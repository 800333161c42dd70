"""Fixtures of the gateway's integration tests: gateways on real NATS, events, WebSocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import msgspec
import pytest
from aiohttp import web
from nats.aio.client import Client as NatsClient

from archive_live_gateway.app import BRIDGE, HUB, METRICS, create_app, serve
from archive_live_gateway.hub import Hub
from archive_live_gateway.metrics import GatewayMetrics
from archive_live_gateway.nats_bridge import NatsBridge
from archive_live_gateway.protocol import AnyServerFrame, ErrorFrame, ServerFrame, SubscribedFrame
from archive_live_gateway.settings import GatewaySettings
from twitch_archive.bus import event_headers, event_subject
from twitch_archive.codec import encode_event
from twitch_archive.events import ChatEvent, Message, ModAction, UserNotice
from twitch_archive.settings import load
from twitch_archive.subjects import Names

WAIT_S = 10.0
F = TypeVar("F", bound=ServerFrame)
_decoder = msgspec.json.Decoder(AnyServerFrame)


async def wait_until(check: Callable[[], bool], within: float = WAIT_S, what: str = "it") -> None:
    """Poll `check` every 10 ms until it is true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Gateway:
    """One running gateway app."""

    app: web.Application
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/live"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hub(self) -> Hub:
        return self.app[HUB]

    @property
    def bridge(self) -> NatsBridge:
        return self.app[BRIDGE]

    @property
    def metrics(self) -> GatewayMetrics:
        return self.app[METRICS]

    async def eventually(
        self, check: Callable[[], bool], what: str = "it", within: float = WAIT_S
    ) -> None:
        """Poll `check` until it is true (see wait_until)."""
        await wait_until(check, within, what)

    def sample(self, name: str, **labels: str) -> float:
        """The current value of one metric sample."""
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


class LiveClient:
    """A WebSocket client of /api/live that decodes server frames."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, frame: Any) -> None:
        """Send one JSON text frame."""
        await self.ws.send_str(msgspec.json.encode(frame).decode())

    async def next(self, within: float = WAIT_S) -> ServerFrame:
        """The next server frame; fails if none comes within `within` seconds."""
        msg = await self.ws.receive(timeout=within)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg!r}"
        return _decoder.decode(msg.data)

    async def next_of(self, kind: type[F], within: float = WAIT_S) -> F:
        """The next server frame, which must be a `kind`."""
        frame = await self.next(within)
        assert isinstance(frame, kind), f"expected {kind.__name__}, got {frame!r}"
        return frame

    async def error(self, within: float = WAIT_S) -> str:
        """The code of the next frame, which must be an error frame with a detail."""
        frame = await self.next_of(ErrorFrame, within)
        assert frame.detail
        return frame.error

    async def raw(self, within: float = WAIT_S) -> bytes:
        """The next text frame's bytes."""
        msg = await self.ws.receive(timeout=within)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg!r}"
        return str(msg.data).encode()

    async def subscribe(self, *channels: str) -> SubscribedFrame:
        """Subscribe and wait for the acknowledgement."""
        await self.send({"action": "subscribe", "channels": list(channels)})
        return await self.next_of(SubscribedFrame)


GatewayFactory = Callable[..., Awaitable[Gateway]]
ClientFactory = Callable[..., Awaitable[LiveClient]]


@pytest.fixture
def gw_names(names: Names) -> Names:
    """A namespace of this test's own inside the run's, so tests never see each other's events."""
    return Names(ns=f"{names.ns}gw{secrets.token_hex(3)}.")


@pytest.fixture
async def gateway(nats_url: str, gw_names: Names) -> AsyncIterator[GatewayFactory]:
    """Start gateways (`await gateway(MAX_SUBSCRIPTIONS=3)`), stopped after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**env: Any) -> Gateway:
            settings = load(
                GatewaySettings,
                {
                    "NATS_URL": nats_url,
                    "NATS_NAMESPACE": gw_names.ns,
                    "GATEWAY_PORT": "0",
                    "SHUTDOWN_TIMEOUT_S": "2",
                    **{key: str(value) for key, value in env.items()},
                },
            )
            app = create_app(settings)
            port = await stack.enter_async_context(serve(app, "127.0.0.1", 0))
            return Gateway(app, port)

        yield start


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def connect(http: aiohttp.ClientSession) -> AsyncIterator[ClientFactory]:
    """Open WebSocket clients (`await connect(gw)`), closed after the test."""
    opened: list[aiohttp.ClientWebSocketResponse] = []

    async def open_client(gw: Gateway, **options: Any) -> LiveClient:
        ws = await http.ws_connect(gw.url, **options)
        opened.append(ws)
        return LiveClient(ws)

    yield open_client
    for ws in opened:
        await ws.close()


class Events:
    """Realistic events with unique ids, published the way the ingestor does (shared bus/codec)."""

    def __init__(self, nc: NatsClient, names: Names) -> None:
        self.nc = nc
        self.names = names
        self._serial = itertools.count(1)
        self.token = secrets.token_hex(3)

    def _id(self) -> str:
        return f"{self.token}-{next(self._serial):06d}"

    def message(self, channel: str, text: str = "hello Kappa", **fields: Any) -> Message:
        eid = self._id()
        values: dict[str, Any] = {
            "id": eid,
            "message_id": eid,
            "channel": channel,
            "channel_id": str(10_000 + len(channel)),
            "ts": int(time.time() * 1000),
            "user_id": "4242",
            "user_login": "viewer",
            "display_name": "Viewer",
            "text": text,
        }
        values.update(fields)
        return Message(**values)

    def notice(self, channel: str, **fields: Any) -> UserNotice:
        eid = self._id()
        values: dict[str, Any] = {
            "id": eid,
            "channel": channel,
            "channel_id": "10001",
            "ts": int(time.time() * 1000),
            "notice_type": "raid",
            "message_id": eid,
            "user_id": "77",
            "user_login": "raider",
            "display_name": "Raider",
            "system_msg": "5 raiders from Raider have joined!",
            "params": {"viewerCount": "5"},
        }
        values.update(fields)
        return UserNotice(**values)

    def mod_action(self, channel: str, action: str, **fields: Any) -> ModAction:
        values: dict[str, Any] = {
            "id": f"h:{self._id()}",
            "channel": channel,
            "channel_id": "10001",
            "ts": int(time.time() * 1000),
            "action": action,
            "target_user_login": "spammer",
            "target_user_id": None if action in ("clear", "delete") else "666",
            "duration_s": 600 if action == "timeout" else None,
            "target_message_id": "m-1" if action == "delete" else None,
            "message_text": "buy followers" if action == "delete" else None,
        }
        values.update(fields)
        return ModAction(**values)

    async def publish(self, *events: ChatEvent) -> None:
        """Publish on each event's subject (core NATS: what the gateway subscribes to)."""
        for event in events:
            await self.nc.publish(
                event_subject(self.names, event), encode_event(event), headers=event_headers(event)
            )
        await self.nc.flush()


@pytest.fixture
def events(nc: NatsClient, gw_names: Names) -> Events:
    """Builds and publishes events in this test's namespace."""
    return Events(nc, gw_names)
