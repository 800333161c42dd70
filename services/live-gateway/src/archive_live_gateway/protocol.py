"""The /api/live wire protocol as pure functions: client requests in, encoded server frames out.

Client -> server, JSON text frames:
    {"action": "subscribe" | "unsubscribe", "channels": ["a", "b"]}    ("*": every channel)
Server -> client:
    {"type": "message" | "usernotice" | "mod_action" | "delete", "data": {...}}  (REST item shapes)
    {"type": "subscribed" | "unsubscribed", "channels": [...], "subscriptions": [...]}
    {"type": "error", "error": "<code>", "detail": "..."}

An event is encoded once, WebSocket framing included, and the same bytes go to all its watchers.
"""

from __future__ import annotations

import struct
from typing import Final, Literal, NamedTuple

import msgspec

from archive_live_gateway.errors import ErrorCode, ProtocolError
from twitch_archive.events import ChatEvent, Message, ModAction, UserNotice
from twitch_archive.subjects import validate_channel
from twitch_archive.views import (
    MessageView,
    ModActionView,
    UserNoticeView,
    message_view,
    mod_action_view,
    usernotice_view,
)

FIREHOSE: Final = "*"
"""The channel name that means every channel (allowed only with ALLOW_FIREHOSE)."""

Action = Literal["subscribe", "unsubscribe"]
ACTIONS: Final[tuple[Action, ...]] = ("subscribe", "unsubscribe")


# ------------------------------------------------------------------------------ client -> server


class _RawRequest(msgspec.Struct, frozen=True, kw_only=True):
    action: str
    channels: list[str] | None = None


_request_decoder = msgspec.json.Decoder(_RawRequest)


class Request(msgspec.Struct, frozen=True, kw_only=True):
    """A valid client request: channels normalized, without duplicates, in the order given."""

    action: Action
    channels: tuple[str, ...]


def normalize_channel(raw: str) -> str:
    """`#SomeChannel ` -> `somechannel`; `*` stays; anything else not a login raises ValueError."""
    name = raw.strip().removeprefix("#").lower()
    if name == FIREHOSE:
        return name
    return validate_channel(name)


def parse_request(data: str | bytes, *, max_bytes: int, max_channels: int) -> Request:
    """Read one client text frame; raises ProtocolError with the code a client is sent."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > max_bytes:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE, f"frame of {size} bytes; the limit is {max_bytes}"
        )
    try:
        raw = _request_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.INVALID_FRAME, str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.INVALID_JSON, str(exc)) from exc
    if raw.action not in ACTIONS:
        raise ProtocolError(
            ErrorCode.UNKNOWN_ACTION,
            f"unknown action {raw.action[:50]!r}: expected subscribe or unsubscribe",
        )
    if not raw.channels:
        raise ProtocolError(ErrorCode.INVALID_FRAME, "channels: expected a non-empty array")
    channels: dict[str, None] = {}
    for item in raw.channels:
        try:
            channels[normalize_channel(item)] = None
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID_CHANNEL, str(exc)) from exc
    if len(channels) > max_channels:
        raise ProtocolError(
            ErrorCode.TOO_MANY_CHANNELS,
            f"{len(channels)} channels in one frame; the limit is {max_channels}",
        )
    action: Action = "subscribe" if raw.action == "subscribe" else "unsubscribe"
    return Request(action=action, channels=tuple(channels))


# ------------------------------------------------------------------------------ server -> client


class ServerFrame(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every frame the gateway sends, tagged by `type`."""


class MessageFrame(ServerFrame, frozen=True, kw_only=True, tag="message"):
    """A chat message."""

    data: MessageView


class UserNoticeFrame(ServerFrame, frozen=True, kw_only=True, tag="usernotice"):
    """A sub, resub, raid, announcement, ..."""

    data: UserNoticeView


class ModActionFrame(ServerFrame, frozen=True, kw_only=True, tag="mod_action"):
    """A ban, timeout or clear (CLEARCHAT), or any moderation action other than a deletion."""

    data: ModActionView


class DeleteFrame(ServerFrame, frozen=True, kw_only=True, tag="delete"):
    """A deleted message (CLEARMSG): `data.targetMessageId` names it."""

    data: ModActionView


class SubscribedFrame(ServerFrame, frozen=True, kw_only=True, tag="subscribed"):
    """Acknowledges a subscribe: events of `channels` follow this frame, none before it."""

    channels: tuple[str, ...]
    """The channels of the request, normalized."""
    subscriptions: tuple[str, ...]
    """Everything this connection watches now."""


class UnsubscribedFrame(ServerFrame, frozen=True, kw_only=True, tag="unsubscribed"):
    """Acknowledges an unsubscribe: no event of `channels` follows this frame."""

    channels: tuple[str, ...]
    subscriptions: tuple[str, ...]


class ErrorFrame(ServerFrame, frozen=True, kw_only=True, tag="error"):
    """A client frame was refused; the connection stays open."""

    error: str
    """One of errors.ErrorCode."""
    detail: str


AnyServerFrame = (
    MessageFrame
    | UserNoticeFrame
    | ModActionFrame
    | DeleteFrame
    | SubscribedFrame
    | UnsubscribedFrame
    | ErrorFrame
)
"""Every frame a client can receive (clients decode with msgspec.json.Decoder(AnyServerFrame))."""

EventFrame = MessageFrame | UserNoticeFrame | ModActionFrame | DeleteFrame

_encoder = msgspec.json.Encoder()
_PACK_LEN1: Final = struct.Struct("!BB").pack
_PACK_LEN2: Final = struct.Struct("!BBH").pack
_PACK_LEN3: Final = struct.Struct("!BBQ").pack
_FIN_TEXT: Final = 0x81


def ws_text_frame(payload: bytes) -> bytes:
    """`payload` as one complete, unmasked, uncompressed WebSocket text frame (RFC 6455 5.2)."""
    size = len(payload)
    if size < 126:
        header = _PACK_LEN1(_FIN_TEXT, size)
    elif size < 65536:
        header = _PACK_LEN2(_FIN_TEXT, 126, size)
    else:
        header = _PACK_LEN3(_FIN_TEXT, 127, size)
    return header + payload


class Frame(NamedTuple):
    """One server frame, encoded and framed once, shared by every client it goes to.

    A tuple of atomic values, so the garbage collector stops tracking it: the frames that live
    on in queues and caches never trigger full collections.
    """

    kind: str
    """The frame's `type`."""
    wire: bytes
    """The bytes on the socket: WebSocket header and JSON payload."""
    ts_ms: int | None = None
    """The event's time (ms since the epoch), for the delivery delay; None for replies."""

    @property
    def payload(self) -> bytes:
        """The JSON text, without the WebSocket header."""
        length = self.wire[1] & 0x7F
        return self.wire[2 + {126: 2, 127: 8}.get(length, 0) :]


def event_to_frame(event: ChatEvent) -> EventFrame | None:
    """The server frame of an event, or None for events clients are not sent (coverage_gap)."""
    if isinstance(event, Message):
        return MessageFrame(data=message_view(event))
    if isinstance(event, ModAction):
        view = mod_action_view(event)
        return DeleteFrame(data=view) if event.action == "delete" else ModActionFrame(data=view)
    if isinstance(event, UserNotice):
        return UserNoticeFrame(data=usernotice_view(event))
    return None


def encode_frame(frame: ServerFrame, ts_ms: int | None = None) -> Frame:
    """Encode a server frame once, WebSocket framing included."""
    kind = type(frame).__struct_config__.tag
    return Frame(str(kind), ws_text_frame(_encoder.encode(frame)), ts_ms)


def event_frame(event: ChatEvent) -> Frame | None:
    """An event's encoded frame (one encode for all its watchers), or None if not forwarded."""
    frame = event_to_frame(event)
    return None if frame is None else encode_frame(frame, event.ts)


def error_frame(code: ErrorCode, detail: str) -> Frame:
    """An encoded error frame."""
    return encode_frame(ErrorFrame(error=code.value, detail=detail))


def ack_frame(action: Action, channels: tuple[str, ...], subscriptions: tuple[str, ...]) -> Frame:
    """An encoded acknowledgement of a subscribe or unsubscribe."""
    if action == "subscribe":
        return encode_frame(SubscribedFrame(channels=channels, subscriptions=subscriptions))
    return encode_frame(UnsubscribedFrame(channels=channels, subscriptions=subscriptions))
