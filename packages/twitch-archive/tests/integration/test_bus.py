"""JetStream plumbing against a real NATS server: streams, publishing, de-duplication."""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from twitch_archive.bus import StreamSettings, ensure_streams, event_subject, publish_event
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
