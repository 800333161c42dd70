"""Bad frames, limits and misbehaving clients: errors keep the connection, closes are counted."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiohttp
import pytest

from archive_live_gateway.protocol import ErrorFrame, MessageFrame, SubscribedFrame

if TYPE_CHECKING:
    from conftest import ClientFactory, Events, GatewayFactory, LiveClient


async def _assert_still_open(client: LiveClient) -> None:
    ack = await client.subscribe("stillopen")
    assert "stillopen" in ack.subscriptions


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        pytest.param("not json", "invalid_json", id="not-json"),
        pytest.param('{"action": "subscribe"', "invalid_json", id="truncated-json"),
        pytest.param("[1, 2]", "invalid_frame", id="not-an-object"),
        pytest.param('{"channels": ["a"]}', "invalid_frame", id="no-action"),
        pytest.param('{"action": "subscribe"}', "invalid_frame", id="no-channels"),
        pytest.param('{"action": "subscribe", "channels": []}', "invalid_frame", id="no-channel"),
        pytest.param('{"action": "subscribe", "channels": "a"}', "invalid_frame", id="not-a-list"),
        pytest.param('{"action": "subscribe", "channels": [1]}', "invalid_frame", id="not-str"),
        pytest.param('{"action": "join", "channels": ["a"]}', "unknown_action", id="unknown"),
        pytest.param(
            '{"action": "subscribe", "channels": ["chat.>"]}', "invalid_channel", id="wildcard"
        ),
        pytest.param('{"action": "subscribe", "channels": ["a b"]}', "invalid_channel", id="space"),
        pytest.param(
            '{"action": "subscribe", "channels": ["' + "a" * 26 + '"]}',
            "invalid_channel",
            id="too-long-login",
        ),
        pytest.param(
            '{"action": "subscribe", "channels": ["' + "a" * 3000 + '"]}',
            "frame_too_large",
            id="frame-too-large",
        ),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_connection_stays(
    frame: str, code: str, gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """Each kind of bad frame is answered with its error code, and the client can go on."""
    gw = await gateway(MAX_FRAME_BYTES=1024)
    client = await connect(gw)
    await client.ws.send_str(frame)
    assert await client.error() == code
    await _assert_still_open(client)
    assert gw.sample("archive_live_gateway_client_frames_rejected_total", reason=code) == 1


async def test_a_binary_frame_gets_an_error(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """Binary frames are refused with `binary_frame`; the connection stays open."""
    gw = await gateway()
    client = await connect(gw)
    await client.ws.send_bytes(b'{"action": "subscribe", "channels": ["a"]}')
    assert await client.error() == "binary_frame"
    await _assert_still_open(client)


async def test_a_frame_beyond_the_hard_limit_closes_with_1009(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """A frame too big to even buffer (over 4 x MAX_FRAME_BYTES, at least 64 KiB) closes."""
    gw = await gateway(MAX_FRAME_BYTES=1024)
    client = await connect(gw)
    await client.ws.send_str("x" * 70_000)
    msg = await client.ws.receive(timeout=5)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1009)
    await gw.eventually(
        lambda: (
            gw.sample("archive_live_gateway_clients_dropped_total", reason="frame_too_large") == 1
        ),
        what="the drop to be counted",
    )


async def test_too_many_channels_are_refused_as_a_whole(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """A subscribe past MAX_SUBSCRIPTIONS is refused and subscribes to none of its channels."""
    gw = await gateway(MAX_SUBSCRIPTIONS=3)
    client = await connect(gw)
    await client.subscribe("a", "b")
    await client.send({"action": "subscribe", "channels": ["c", "d"]})
    assert await client.error() == "too_many_channels"
    await client.send({"action": "subscribe", "channels": ["a", "b", "c", "d", "e"]})
    assert await client.error() == "too_many_channels"
    assert gw.bridge.subscribed == {"a", "b"}
    ack = await client.subscribe("b", "c")  # b is already watched: only c is new
    assert ack.subscriptions == ("a", "b", "c")


async def test_the_firehose_is_forbidden_by_default(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """Without ALLOW_FIREHOSE, `*` is refused with `firehose_forbidden` and nothing subscribes."""
    gw = await gateway()
    client = await connect(gw)
    await client.send({"action": "subscribe", "channels": ["*", "alpha"]})
    assert await client.error() == "firehose_forbidden"
    assert not gw.bridge.subscribed
    await _assert_still_open(client)


async def test_frames_over_the_rate_are_refused(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """Past the burst (2 x CLIENT_FRAMES_PER_SECOND) frames get `rate_limited`, and stay open."""
    gw = await gateway(CLIENT_FRAMES_PER_SECOND=1)
    client = await connect(gw)
    for i in range(5):
        await client.send({"action": "subscribe", "channels": [f"c{i}"]})
    frames = [await client.next() for _ in range(5)]
    assert [type(f) for f in frames] == [SubscribedFrame] * 2 + [ErrorFrame] * 3
    assert {f.error for f in frames if isinstance(f, ErrorFrame)} == {"rate_limited"}
    assert not client.ws.closed
    assert (
        gw.sample("archive_live_gateway_client_frames_rejected_total", reason="rate_limited") == 3
    )


async def test_sustained_abuse_closes_with_1008(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """A client that keeps sending past its rate is closed with 1008 and counted."""
    gw = await gateway(CLIENT_FRAMES_PER_SECOND=1)
    client = await connect(gw)
    for _ in range(40):
        await client.ws.send_str('{"action": "subscribe", "channels": ["a"]}')
    while (msg := await client.ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
        pass
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert (msg.data, msg.extra) == (1008, "rate limit exceeded")
    assert gw.sample("archive_live_gateway_clients_dropped_total", reason="rate_limit") == 1


async def test_a_slow_client_is_dropped_and_a_fast_one_gets_everything(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """A client that stops reading is closed with 4008; a reader on its channel misses nothing."""
    gw = await gateway(SEND_QUEUE_MAX=100, SEND_BUFFER_BYTES=65536)
    slow, fast = await connect(gw), await connect(gw)
    await slow.subscribe("alpha")
    await fast.subscribe("alpha")
    published: list[str] = []
    received: list[str] = []

    async def read_fast() -> None:
        while len(received) < 3000:
            frame = await fast.next()
            assert isinstance(frame, MessageFrame)
            received.append(frame.data.id)

    reader = asyncio.create_task(read_fast())
    for batch in range(150):
        chunk = [events.message("alpha", f"{batch} " + "x" * 1000) for _ in range(20)]
        published += [m.id for m in chunk]
        await events.publish(*chunk)
    await asyncio.wait_for(reader, 30)
    assert received == published
    await gw.eventually(
        lambda: (
            gw.sample("archive_live_gateway_clients_dropped_total", reason="slow_consumer") == 1
        ),
        what="the slow client to be dropped",
    )
    assert gw.sample("archive_live_gateway_queue_dropped_total", queue="client_send", reason="full")
    # Reading now, the slow client finds the close frame behind what its socket held.
    while (msg := await slow.ws.receive(timeout=10)).type is aiohttp.WSMsgType.TEXT:
        pass
    assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 4008, "slow consumer")
    assert gw.hub.fullest_queue() == 0


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        pytest.param("https://archive.example", True, id="listed"),
        pytest.param("https://ARCHIVE.example/", True, id="listed:case-and-slash"),
        pytest.param(None, True, id="no-origin:non-browser"),
        pytest.param("https://evil.example", False, id="other-site"),
    ],
)
async def test_only_allowed_origins_may_connect(
    origin: str | None, accepted: bool, gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """With ALLOWED_ORIGINS set, a browser page from another origin is refused with 403."""
    gw = await gateway(ALLOWED_ORIGINS="https://archive.example, http://localhost:5173")
    headers = {} if origin is None else {"Origin": origin}
    if accepted:
        client = await connect(gw, headers=headers)
        await _assert_still_open(client)
        return
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(gw, headers=headers)
    assert refused.value.status == 403
    assert gw.sample("archive_live_gateway_handshakes_total", result="origin_refused") == 1


async def test_any_origin_may_connect_when_none_is_listed(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """With ALLOWED_ORIGINS empty (local use), any origin is accepted."""
    gw = await gateway()
    client = await connect(gw, headers={"Origin": "https://anywhere.example"})
    await _assert_still_open(client)


async def test_a_dead_connection_is_closed_by_the_heartbeat(
    gateway: GatewayFactory, connect: ClientFactory
) -> None:
    """A client that never answers pings is closed after HEARTBEAT_S x 1.5 and counted."""
    gw = await gateway(HEARTBEAT_S=0.2)
    client = await connect(gw, autoping=False)
    await client.subscribe("alpha")
    await gw.eventually(
        lambda: gw.sample("archive_live_gateway_clients_dropped_total", reason="heartbeat") == 1,
        what="the heartbeat to close the connection",
    )
    assert gw.sample("archive_live_gateway_connections") == 0
    await gw.eventually(lambda: not gw.bridge.subscribed, what="the NATS unsubscribe")


async def test_a_plain_http_request_is_told_to_upgrade(
    gateway: GatewayFactory, http: aiohttp.ClientSession
) -> None:
    """GET /api/live without a WebSocket upgrade gets a 400 JSON error."""
    gw = await gateway()
    async with http.get(gw.url) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "websocket_required"
