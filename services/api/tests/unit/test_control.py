"""The channel-control contract shared with the ingestors (twitch_archive.control)."""

from __future__ import annotations

import pytest

from twitch_archive.control import (
    CHANNEL_KV_VALUE,
    ChannelControl,
    changed,
    decode_control,
    rejoin,
)


def test_payloads_are_the_json_ingestors_read():
    """`changed` and `rejoin` encode to the documented JSON."""
    assert changed() == b'{"action":"changed","channel":null}'
    assert rejoin("forsen") == b'{"action":"rejoin","channel":"forsen"}'
    assert CHANNEL_KV_VALUE == b"{}"


def test_rejoin_validates_the_login():
    """A login that could break a subject or a key is refused."""
    with pytest.raises(ValueError, match="invalid channel login"):
        rejoin("bad.name")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(b"", ChannelControl(), id="empty-means-changed"),
        pytest.param(b"not json", ChannelControl(), id="garbage-means-changed"),
        pytest.param(b'{"action": "changed"}', ChannelControl(), id="changed"),
        pytest.param(
            b'{"action": "rejoin", "channel": "a"}',
            ChannelControl(action="rejoin", channel="a"),
            id="rejoin",
        ),
        pytest.param(b'{"action": "rejoin"}', ChannelControl(), id="rejoin-without-channel"),
        pytest.param(b'{"action": "explode"}', ChannelControl(), id="unknown-action"),
    ],
)
def test_decoding_never_loses_a_nudge(payload, expected):
    """Whatever arrives, a reader gets a usable instruction (default: re-read the bucket)."""
    assert decode_control(payload) == expected
