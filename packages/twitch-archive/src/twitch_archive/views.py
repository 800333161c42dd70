"""Public item shapes shared by the REST API and the live gateway, and pure event -> item functions.

An item is what a client sees: camelCase keys, times as RFC 3339 datetimes in UTC, Twitch ids as
strings. The REST API lists stored items; the live gateway sends the same shapes as they happen.
Internal ids (database keys) are not part of this contract.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec

from twitch_archive.events import Badge, Emote, Message, ModAction, UserNotice

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_MS: Final = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_MAX_MS: Final = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)


class View(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of every public item: camelCase on the wire (`channelId`, `sentAt`)."""


class BadgeView(View, frozen=True, kw_only=True):
    """A chat badge: `moderator/1` is {"name": "moderator", "version": "1"}."""

    name: str
    version: str


class EmoteView(View, frozen=True, kw_only=True):
    """An emote: code point offsets into `text`, `end` inclusive (Twitch's rule)."""

    id: str
    start: int
    end: int


class HighlightView(View, frozen=True, kw_only=True):
    """A matched word of a search: code point offsets into `text`, `end` exclusive."""

    start: int
    end: int


class MessageView(View, frozen=True, kw_only=True):
    """One chat message."""

    id: str
    channel: str
    """Channel login."""
    channel_id: str | None
    """Twitch room id; null when the line carried none."""
    sent_at: datetime
    """Twitch's tmi-sent-ts."""
    user_id: str | None
    user_login: str | None
    """Login at the time the message was sent."""
    display_name: str | None
    text: str
    is_action: bool
    badges: tuple[BadgeView, ...]
    badge_info: tuple[BadgeView, ...]
    emotes: tuple[EmoteView, ...]
    color: str | None
    bits: int | None
    first_msg: bool
    reply_parent_msg_id: str | None
    reply_parent_user_login: str | None
    source_channel_id: str | None
    """Shared chat: the room the message was first sent in."""
    deleted: bool
    deleted_at: datetime | None
    highlights: tuple[HighlightView, ...] | None = None
    """Search results only: the ranges of `text` that matched."""


class UserNoticeView(View, frozen=True, kw_only=True):
    """A USERNOTICE: sub, resub, subgift, raid, announcement, ... (unknown kinds verbatim)."""

    id: str
    channel: str
    channel_id: str | None
    sent_at: datetime
    notice_type: str
    """Twitch's msg-id tag: sub, resub, subgift, raid, ..."""
    message_id: str | None
    user_id: str | None
    user_login: str | None
    display_name: str | None
    text: str | None
    """What the user wrote with the notice, if anything."""
    system_msg: str | None
    params: dict[str, str]
    """Every msg-param-* tag, prefix removed, key case kept."""


class ModActionView(View, frozen=True, kw_only=True):
    """A moderation action: ban, timeout, clear, delete, unban, ..."""

    id: str
    channel: str
    channel_id: str | None
    action: str
    created_at: datetime
    target_user_id: str | None
    target_user_login: str | None
    duration_seconds: int | None
    target_message_id: str | None
    message_text: str | None
    """delete: the text of the deleted message."""
    moderator_id: str | None
    """Null for IRC-sourced actions: IRC never names the moderator."""
    moderator_login: str | None
    reason: str | None


def ms_to_datetime(ts: int) -> datetime:
    """Milliseconds since the epoch as an aware UTC datetime, exact, clamped to datetime's range."""
    return _EPOCH + timedelta(milliseconds=min(max(ts, _MIN_MS), _MAX_MS))


def _badges(badges: tuple[Badge, ...]) -> tuple[BadgeView, ...]:
    return tuple(BadgeView(name=b.name, version=b.version) for b in badges)


def _emotes(emotes: tuple[Emote, ...]) -> tuple[EmoteView, ...]:
    return tuple(EmoteView(id=e.id, start=e.start, end=e.end) for e in emotes)


def message_view(event: Message) -> MessageView:
    """A message event as an item, as it is live: not deleted, no search highlights."""
    return MessageView(
        id=event.id,
        channel=event.channel,
        channel_id=event.channel_id,
        sent_at=ms_to_datetime(event.ts),
        user_id=event.user_id,
        user_login=event.user_login,
        display_name=event.display_name,
        text=event.text,
        is_action=event.is_action,
        badges=_badges(event.badges),
        badge_info=_badges(event.badge_info),
        emotes=_emotes(event.emotes),
        color=event.color,
        bits=event.bits,
        first_msg=event.first_msg,
        reply_parent_msg_id=event.reply_parent_msg_id,
        reply_parent_user_login=event.reply_parent_user_login,
        source_channel_id=event.source_channel_id,
        deleted=False,
        deleted_at=None,
        highlights=None,
    )


def usernotice_view(event: UserNotice) -> UserNoticeView:
    """A usernotice event as an item."""
    return UserNoticeView(
        id=event.id,
        channel=event.channel,
        channel_id=event.channel_id,
        sent_at=ms_to_datetime(event.ts),
        notice_type=event.notice_type,
        message_id=event.message_id,
        user_id=event.user_id,
        user_login=event.user_login,
        display_name=event.display_name,
        text=event.text,
        system_msg=event.system_msg,
        params=dict(event.params),
    )


def mod_action_view(event: ModAction) -> ModActionView:
    """A moderation event as an item (`duration_s` becomes `durationSeconds`)."""
    return ModActionView(
        id=event.id,
        channel=event.channel,
        channel_id=event.channel_id,
        action=event.action,
        created_at=ms_to_datetime(event.ts),
        target_user_id=event.target_user_id,
        target_user_login=event.target_user_login,
        duration_seconds=event.duration_s,
        target_message_id=event.target_message_id,
        message_text=event.message_text,
        moderator_id=event.moderator_id,
        moderator_login=event.moderator_login,
        reason=event.reason,
    )
