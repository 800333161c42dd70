"""The channel-control contract between the api and the ingestors: KV values and NATS nudges.

The desired channel set is the keys of the KV bucket `Names.channels_bucket`: key = lowercase
channel login, value `CHANNEL_KV_VALUE` (reserved for per-channel options later; readers ignore
it). After changing the bucket the api publishes a `ChannelControl` on the core NATS subject
`Names.control_channels_changed`:

    {"action": "changed", "channel": null}     re-read the bucket now (it changed)
    {"action": "rejoin", "channel": "forsen"}  the replicas that own `forsen` PART and JOIN it

Readers treat anything they cannot decode, and an empty body, as `changed`: a nudge is never lost
to a format mismatch during a rolling deploy.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from twitch_archive.subjects import validate_channel

CHANNEL_KV_VALUE: Final = b"{}"
"""The value of a channel's key in the channels bucket."""

ControlAction = Literal["changed", "rejoin"]


class ChannelControl(msgspec.Struct, frozen=True, kw_only=True):
    """A nudge on `control.channels.changed` (see the module docstring)."""

    action: ControlAction = "changed"
    channel: str | None = None
    """The channel login for `rejoin`; null for `changed`."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ChannelControl)


def encode_control(control: ChannelControl) -> bytes:
    """The JSON payload of a control message."""
    return _encoder.encode(control)


def changed() -> bytes:
    """The payload telling ingestors to re-read the desired set."""
    return encode_control(ChannelControl(action="changed"))


def rejoin(channel: str) -> bytes:
    """The payload telling the owners of `channel` to part and rejoin it (login validated)."""
    return encode_control(ChannelControl(action="rejoin", channel=validate_channel(channel)))


def decode_control(data: bytes | None) -> ChannelControl:
    """Read a control payload; empty or undecodable payloads mean `changed`."""
    if not data:
        return ChannelControl()
    try:
        control = _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ChannelControl()
    if control.action == "rejoin" and not control.channel:
        return ChannelControl()
    return control
