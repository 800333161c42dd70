"""The normalized chat events: the contract between ingestor, writer and live gateway.

Evolution rules (msgspec): new fields get defaults and go last, a field's type never changes,
a tag is never reused. A breaking change is a new tag and an ADR.
"""

from __future__ import annotations

import msgspec


class Badge(msgspec.Struct, frozen=True):
    """One chat badge: `moderator/1` is Badge(name="moderator", version="1")."""

    name: str
    version: str


class Emote(msgspec.Struct, frozen=True):
    """An emote range: Unicode code point offsets into the text, `end` inclusive (Twitch's rule)."""

    id: str
    start: int
    end: int


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Fields every event carries."""

    id: str
    """Twitch's message id where the line has one, else a deterministic hash (see ids.py)."""
    channel: str
    """Lowercase channel login, without '#'."""
    channel_id: str | None = None
    """Twitch room id; null when the line carries no room-id tag."""
    ts: int
    """Twitch's tmi-sent-ts in ms since the epoch (odd CLEARMSG lines carry negative values)."""


class Message(Event, frozen=True, kw_only=True, tag="message"):
    """A chat message (PRIVMSG)."""

    message_id: str | None = None
    user_id: str | None = None
    user_login: str | None = None
    display_name: str | None = None
    text: str
    is_action: bool = False
    badges: tuple[Badge, ...] = ()
    badge_info: tuple[Badge, ...] = ()
    emotes: tuple[Emote, ...] = ()
    color: str | None = None
    bits: int | None = None
    first_msg: bool = False
    reply_parent_msg_id: str | None = None
    reply_parent_user_login: str | None = None
    source_channel_id: str | None = None
    """Shared chat: the room the message was first sent in (Twitch's source-room-id tag)."""


class UserNotice(Event, frozen=True, kw_only=True, tag="usernotice"):
    """A USERNOTICE: sub, resub, subgift, raid, announcement, ... (unknown kinds kept verbatim)."""

    notice_type: str
    """The msg-id tag as Twitch sent it."""
    message_id: str | None = None
    user_id: str | None = None
    user_login: str | None = None
    display_name: str | None = None
    text: str | None = None
    system_msg: str | None = None
    params: dict[str, str] = {}
    """Every msg-param-* tag, prefix removed, key case kept."""


class ModAction(Event, frozen=True, kw_only=True, tag="mod_action"):
    """A moderation action: CLEARCHAT (ban, timeout, clear) or CLEARMSG (delete)."""

    action: str
    """ban, timeout, clear, delete; other sources may add unban, untimeout, ..."""
    target_user_id: str | None = None
    target_user_login: str | None = None
    duration_s: int | None = None
    target_message_id: str | None = None
    message_text: str | None = None
    moderator_id: str | None = None
    """IRC never names the moderator: always null for IRC-sourced actions."""
    moderator_login: str | None = None
    reason: str | None = None


class CoverageGap(Event, frozen=True, kw_only=True, tag="coverage_gap"):
    """A stretch of time an ingestor connection did not cover a channel (it may have missed chat).

    `ts` is `gap_to`, the moment coverage resumed.
    """

    gap_from: int
    """Last moment (ms since the epoch) the channel was known to be covered."""
    gap_to: int
    """Moment (ms since the epoch) coverage resumed."""
    reason: str
    """disconnected, reconnect_requested, silent_server, join_failed, ..."""
    ingestor_id: str | None = None
    """The ingestor replica whose connection had the gap."""


ChatEvent = Message | UserNotice | ModAction | CoverageGap
"""Every event that travels on the chat stream, tagged by `type`."""

EVENT_TYPES: tuple[str, ...] = ("message", "usernotice", "mod_action", "coverage_gap")
"""The wire tags, in the order of ChatEvent."""
