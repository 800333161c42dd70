"""JetStream plumbing against a real NATS server: streams, publishing, de-duplication."""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from twitch_archive.bus import (
    StreamSettings,
    connect_nats,
    delete_namespace,
    ensure_bucket,
    ensure_streams,
    event_subject,
    nats_servers,
    publish_event,
)
from twitch_archive.codec import encode_event
from twitch_archive.events import Message, ModAction
from twitch_archive.subjects import Names


def _names(names: Names, suffix: str) -> Names:
    return Names(ns=f"{names.ns}{suffix}.")


async def test_ensure_streams_is_idempotent_and_concurrent_safe(
    js: JetStreamContext, names: Names
) -> None:
    """Several replicas declaring the streams at once all succeed and leave one stream each."""
    scoped = _names(names, "declare")
    await asyncio.gather(*(ensure_streams(js, scoped) for _ in range(4)))
    await ensure_streams(js, scoped, StreamSettings(max_age_s=3600))
    info = await js.stream_info(scoped.chat_stream)
    assert info.config.subjects == [scoped.chat_wildcard()]
    assert info.config.max_age == 3600
    assert (await js.stream_info(scoped.deadletter_stream)).config.subjects == [
        scoped.deadletter_subject
    ]


async def test_publish_event_drops_a_second_copy_of_one_event(
    js: JetStreamContext, names: Names
) -> None:
    """Publishing one event id twice stores it once: JetStream reports the copy as a duplicate."""
    scoped = _names(names, "dedupe")
    await ensure_streams(js, scoped)
    event = Message(id="m-1", channel="somechannel", ts=1, text="hi")
    first = await publish_event(js, scoped, event, encode_event(event))
    second = await publish_event(js, scoped, event, encode_event(event))
    assert not first.duplicate
    assert second.duplicate
    info = await js.stream_info(scoped.chat_stream)
    assert info.state.messages == 1


def test_event_subject_follows_channel_and_type(names: Names) -> None:
    """Each event goes to `chat.<channel>.<type>` under the namespace."""
    action = ModAction(id="x", channel="somechannel", ts=1, action="ban")
    assert event_subject(names, action) == f"{names.ns}chat.somechannel.mod_action"


def test_nats_url_may_list_every_node_of_a_cluster() -> None:
    assert nats_servers("nats://a:4222, nats://b:4222,,") == ["nats://a:4222", "nats://b:4222"]
    assert nats_servers("nats://a:4222") == ["nats://a:4222"]


async def test_a_node_that_is_down_does_not_stop_the_connection(nats_url: str) -> None:
    """With a dead node listed first, the client connects to the live one."""
    nc = await connect_nats(f"nats://127.0.0.1:1,{nats_url}", name="bus-test", dont_randomize=True)
    try:
        assert nc.is_connected
        assert nc.connected_url is not None
        assert nc.connected_url.port != 1
    finally:
        await nc.close()


async def test_buckets_are_created_once_with_their_replicas(
    js: JetStreamContext, names: Names
) -> None:
    first, second = await asyncio.gather(
        ensure_bucket(js, names.channels_bucket, replicas=1),
        ensure_bucket(js, names.channels_bucket, replicas=1),
    )
    await first.put("alpha", b"{}")
    assert (await second.get("alpha")).value == b"{}"
    status = await first.status()
    assert status.bucket == names.channels_bucket


async def test_delete_namespace_removes_every_stream_and_bucket(
    nc, js: JetStreamContext, names: Names
) -> None:
    """What a namespace created (streams, KV buckets) is gone after delete_namespace; names
    that never existed are skipped."""
    doomed = Names(ns=f"{names.ns}doomed.")
    await ensure_streams(js, doomed, StreamSettings(max_bytes=16 * 1024**2, max_age_s=600))
    await ensure_bucket(js, doomed.channels_bucket)
    await delete_namespace(nc, doomed)
    left = {info.config.name for info in await js.streams_info()}
    assert not left & set(doomed.jetstream_streams)
    await delete_namespace(nc, doomed)  # nothing left to delete: no error
