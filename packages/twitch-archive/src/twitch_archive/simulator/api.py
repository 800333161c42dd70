"""The control API's request and response bodies (JSON via msgspec), for server and clients."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Selector = Literal["all"] | int | list[str]
"""Which connections: "all", the N oldest open ones, or a list of connection ids."""

SendKind = Literal["message", "ban", "timeout", "delete", "clear", "usernotice"]


class ReconnectRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /control/reconnect`: RECONNECT, then close after the grace period."""

    connections: Selector = "all"
    grace_s: float | None = None
    """Seconds before the server closes them; default SIMULATOR_RECONNECT_GRACE_S."""


class DropRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /control/drop`: close TCP connections abruptly (no RECONNECT, no close frame)."""

    connections: Selector = "all"
    channel: str | None = None
    """Only connections that have joined this channel."""


class InjectRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /control/inject`: write raw lines as they are (malformed ones too)."""

    lines: list[str]
    channel: str | None = None
    """To connections that joined this channel; without it, to `connections`."""
    connections: Selector = "all"


class SendRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /control/send`: make one event of `kind` (unset fields are generated) and send it."""

    channel: str
    kind: SendKind = "message"
    user_login: str | None = None
    """Author (message, usernotice) or target (ban, timeout, delete); default a recent chatter."""
    user_id: str | None = None
    display_name: str | None = None
    text: str | None = None
    is_action: bool = False
    bits: int | None = None
    first_msg: bool = False
    reply_parent_msg_id: str | None = None
    duration_s: int | None = None
    """Timeout length (default 600)."""
    target_message_id: str | None = None
    """Message a delete removes (default the channel's latest message)."""
    notice_type: str = "sub"
    params: dict[str, str] | None = None
    system_msg: str | None = None
    ts: int | None = None
    """tmi-sent-ts in ms (default now)."""


class RateRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /control/rate`: change the base rate, one channel's rate, or pause/resume."""

    channel: str | None = None
    rate: float | None = None
    paused: bool | None = None


class ReplayRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`POST /control/replay`: replay a raw log file onto channels."""

    file: str
    channels: list[str]
    speed: str | float = "1"
    loop: bool = False


class Selected(msgspec.Struct, frozen=True, kw_only=True):
    """The connections an action applied to."""

    connections: list[str]


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    """What `/control/send` made: the event (with its `id`), its raw line, and its audience."""

    event: Any
    """The ChatEvent (tagged by `type`)."""
    line: str
    connections: int
    """Connections that had the channel joined when it was queued (0: not sent)."""


class InjectResult(msgspec.Struct, frozen=True, kw_only=True):
    """What `/control/inject` queued."""

    connections: int
    lines: int
    event_ids: list[str | None]
    """The id each line parses to (None for malformed and non-event lines)."""


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    irc_url: str
    seed: int


class ConnectionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One connection, open or closed."""

    id: str
    login: str | None
    open: bool
    channels: list[str]
    lines_sent: int
    events_sent: int
    connected_at: float
    closed_at: float | None
    close_reason: str | None


class ConnectionDetail(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /control/connections/{id}`: the connection and every event id written to it."""

    connection: ConnectionInfo
    ids: list[str]


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /control/stats`."""

    connections: int
    connections_total: int
    channels: dict[str, list[str]]
    """Open connection id -> joined channels."""
    lines_sent: int
    events_sent: int
    frames_sent: int
    joins: int
    joins_refused: int
    events_generated: int
    generator_lag_resets: int
    paused: bool
    rate: float
    rates: dict[str, float]
    """Current generated lines/s of each active traffic channel."""
    replays_running: int
    uptime_s: float


class SentIds(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /control/sent?channel=X`."""

    channel: str
    ids: list[str]


class AllSentIds(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /control/sent`."""

    channels: dict[str, list[str]]


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    error: str
    detail: str | None = None
