"""Events published on NATS reach exactly the clients watching their channel, in the REST shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from nats.js import JetStreamContext

from archive_live_gateway.protocol import (
    DeleteFrame,
    MessageFrame,
    ModActionFrame,
    SubscribedFrame,
    UnsubscribedFrame,
    UserNoticeFrame,
)
from twitch_archive.bus import StreamSettings, ensure_streams, publish_event
from twitch_archive.codec import encode_event
from twitch_archive.events import CoverageGap
from twitch_archive.subjects import Names
from twitch_archive.views import message_view, mod_action_view, usernotice_view

if TYPE_CHECKING:
    from conftest import ClientFactory, Events, GatewayFactory


async def test_subscribe_is_acknowledged(gateway: GatewayFactory, connect: ClientFactory) -> None:
    """A subscribe is answered with the normalized channels and the connection's subscriptions."""
    gw = await gateway()
    client = await connect(gw)
    ack = await client.subscribe("#Alpha", "beta", "alpha")
    assert ack == SubscribedFrame(channels=("alpha", "beta"), subscriptions=("alpha", "beta"))
    assert gw.bridge.subscribed == {"alpha", "beta"}
    assert gw.sample("archive_live_gateway_subscriptions") == 2
    assert gw.sample("archive_live_gateway_channels_watched") == 2


async def test_a_subscriber_gets_its_channels_and_no_others(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """Events of other channels never reach a client; those of its channels arrive in order."""
    gw = await gateway()
    alpha, beta = await connect(gw), await connect(gw)
    await alpha.subscribe("alpha")
    await beta.subscribe("beta")
    sent = [events.message("beta", "not for alpha") for _ in range(5)]
    mine = [events.message("alpha", f"for alpha {i}") for i in range(3)]
    await events.publish(*sent, *mine, events.message("gamma"))
    got = [await alpha.next_of(MessageFrame) for _ in mine]
    assert [f.data.id for f in got] == [e.id for e in mine]
    got_beta = [await beta.next_of(MessageFrame) for _ in sent]
    assert {f.data.channel for f in got_beta} == {"beta"}


async def test_deletions_are_delete_frames_and_other_actions_mod_action_frames(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """CLEARMSG arrives as `delete`; ban, timeout and clear arrive as `mod_action`."""
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha")
    actions = ["ban", "timeout", "clear", "delete"]
    await events.publish(*(events.mod_action("alpha", action) for action in actions))
    frames = [await client.next() for _ in actions]
    assert [type(f) for f in frames] == [
        ModActionFrame,
        ModActionFrame,
        ModActionFrame,
        DeleteFrame,
    ]
    assert [f.data.action for f in frames] == actions  # type: ignore[attr-defined]


async def test_data_is_exactly_the_shared_view(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """Each frame's `data` is the views.py item of its event, byte for byte."""
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha")
    message = events.message("alpha", bits=100, badges=())
    notice = events.notice("alpha")
    ban = events.mod_action("alpha", "ban", reason="spam")
    await events.publish(message, notice, ban)
    expected = [
        ("message", message_view(message)),
        ("usernotice", usernotice_view(notice)),
        ("mod_action", mod_action_view(ban)),
    ]
    for kind, view in expected:
        raw = await client.raw()
        encoded_view = msgspec.json.encode(view)
        assert raw == b'{"type":"' + kind.encode() + b'","data":' + encoded_view + b"}"


async def test_coverage_gaps_are_not_forwarded(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """A coverage_gap event is counted but never sent to clients."""
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha")
    gap = CoverageGap(
        id="gap-1", channel="alpha", ts=2, gap_from=1, gap_to=2, reason="disconnected"
    )
    marker = events.message("alpha", "after the gap")
    await events.publish(gap, marker)
    assert (await client.next_of(MessageFrame)).data.id == marker.id
    assert gw.sample("archive_live_gateway_events_received_total", type="coverage_gap") == 1


async def test_unsubscribe_stops_delivery_and_releases_the_nats_subscription(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """After the unsubscribe ack no event of the channel arrives, and NATS is unsubscribed."""
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha", "beta")
    await client.send({"action": "unsubscribe", "channels": ["alpha"]})
    assert await client.next() == UnsubscribedFrame(channels=("alpha",), subscriptions=("beta",))
    await gw.eventually(lambda: gw.bridge.subscribed == {"beta"}, what="alpha's unsubscribe")
    assert gw.sample("archive_live_gateway_nats_subscriptions") == 1
    marker = events.message("beta", "marker")
    await events.publish(events.message("alpha", "too late"), marker)
    assert (await client.next_of(MessageFrame)).data.id == marker.id


async def test_watchers_share_one_subscription_until_the_last_leaves(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """Two watchers of a channel share one NATS subscription; it goes when the last one leaves."""
    gw = await gateway()
    first, second = await connect(gw), await connect(gw)
    await first.subscribe("alpha")
    await second.subscribe("alpha")
    assert gw.sample("archive_live_gateway_nats_subscriptions") == 1
    await first.ws.close()
    await gw.eventually(lambda: gw.hub.watchers("alpha") == 1, what="the first watcher to leave")
    message = events.message("alpha")
    await events.publish(message)
    assert (await second.next_of(MessageFrame)).data.id == message.id
    await second.ws.close()
    await gw.eventually(lambda: not gw.bridge.subscribed, what="the NATS unsubscribe")
    assert gw.sample("archive_live_gateway_nats_subscriptions") == 0
    assert gw.sample("archive_live_gateway_connections") == 0


async def test_one_decode_and_one_encode_per_event_whatever_the_watchers(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """Five watchers of a channel get the same frame bytes, decoded from NATS once per event."""
    gw = await gateway()
    clients = [await connect(gw) for _ in range(5)]
    for client in clients:
        await client.subscribe("alpha")
    messages = [events.message("alpha", f"n{i}") for i in range(4)]
    await events.publish(*messages)
    received = [[await client.raw() for _ in messages] for client in clients]
    assert all(frames == received[0] for frames in received)
    assert gw.sample("archive_live_gateway_events_received_total", type="message") == 4
    assert gw.sample("archive_live_gateway_frames_sent_total", type="message") == 20


async def test_events_published_to_jetstream_arrive(
    gateway: GatewayFactory, connect: ClientFactory, events: Events, js: JetStreamContext,
    gw_names: Names,
) -> None:  # fmt: skip
    """Events the ingestor's way (JetStream publish with a Nats-Msg-Id) reach watchers too."""
    await ensure_streams(js, gw_names, StreamSettings(max_bytes=16 * 1024**2, max_age_s=600))
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha")
    message = events.message("alpha")
    await publish_event(js, gw_names, message, encode_event(message))
    assert (await client.next_of(MessageFrame)).data.id == message.id


async def test_an_event_published_twice_is_delivered_once(
    gateway: GatewayFactory,
    connect: ClientFactory,
    events: Events,
    js: JetStreamContext,
    gw_names: Names,
) -> None:
    """Two ingestors publishing one event (JetStream keeps one) still give watchers one frame."""
    await ensure_streams(js, gw_names, StreamSettings(max_bytes=16 * 1024**2, max_age_s=600))
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha")
    twice, marker = events.message("alpha"), events.message("alpha", "marker")
    for event in (twice, twice, marker):
        await publish_event(js, gw_names, event, encode_event(event))
    assert (await client.next_of(MessageFrame)).data.id == twice.id
    assert (await client.next_of(MessageFrame)).data.id == marker.id
    assert gw.sample("archive_live_gateway_events_duplicate_total") == 1


async def test_the_firehose_gets_every_channel_once(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """With ALLOW_FIREHOSE, `*` gets every channel's events, each once even if also watched."""
    gw = await gateway(ALLOW_FIREHOSE="true")
    hose, alpha = await connect(gw), await connect(gw)
    ack = await hose.subscribe("*", "alpha")
    assert ack.subscriptions == ("*", "alpha")
    await alpha.subscribe("alpha")
    published = [events.message("alpha"), events.message("beta"), events.notice("gamma")]
    await events.publish(*published)
    got = [await hose.next() for _ in published]
    assert sorted(f.data.id for f in got) == sorted(e.id for e in published)  # type: ignore[attr-defined]
    assert (await alpha.next_of(MessageFrame)).data.id == published[0].id
    marker = events.message("alpha", "marker")
    await events.publish(marker)
    assert (await hose.next_of(MessageFrame)).data.id == marker.id  # no duplicate before it
    assert gw.sample("archive_live_gateway_events_received_total", type="message") == 3


async def test_leaving_the_firehose_keeps_the_channels(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """A client that unsubscribes `*` goes on receiving the channels it watches."""
    gw = await gateway(ALLOW_FIREHOSE="true")
    client = await connect(gw)
    await client.subscribe("*", "alpha")
    await client.send({"action": "unsubscribe", "channels": ["*"]})
    assert await client.next() == UnsubscribedFrame(channels=("*",), subscriptions=("alpha",))
    await gw.eventually(lambda: gw.bridge.subscribed == {"alpha"}, what="the firehose unsubscribe")
    message = events.message("alpha")
    await events.publish(events.message("beta"), message)
    assert (await client.next_of(MessageFrame)).data.id == message.id


async def test_two_gateways_side_by_side_both_deliver(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """Replicas share nothing: each one delivers every event to its own clients."""
    first, second = await gateway(), await gateway()
    one, two = await connect(first), await connect(second)
    await one.subscribe("alpha")
    await two.subscribe("alpha")
    message = events.message("alpha")
    await events.publish(message)
    for client in (one, two):
        assert (await client.next_of(MessageFrame)).data.id == message.id


async def test_usernotices_are_forwarded(
    gateway: GatewayFactory, connect: ClientFactory, events: Events
) -> None:
    """A usernotice arrives as a `usernotice` frame with its params."""
    gw = await gateway()
    client = await connect(gw)
    await client.subscribe("alpha")
    await events.publish(events.notice("alpha"))
    assert (await client.next_of(UserNoticeFrame)).data.params == {"viewerCount": "5"}
