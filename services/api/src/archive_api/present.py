"""Database rows to response Structs (and to export lines)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import asyncpg

from archive_api.deps import ChannelRef
from archive_api.schemas import ChannelOut, Gap, UserSummary
from twitch_archive.views import HighlightView, MessageView, ModActionView, UserNoticeView


def _as_is(items: Any) -> Any:
    """jsonb arrays the writer stored from the event Structs are already in the wire shape
    ([{"name", "version"}], [{"id", "start", "end"}]): msgspec encodes the decoded lists as
    they are, which saves building a Struct per badge on every row of every page."""
    return items if items is not None else []


def message(
    row: asyncpg.Record,
    channel: ChannelRef,
    highlights: re.Pattern[str] | None = None,
) -> MessageView:
    """A messages row (queries.messages.COLUMNS) as the item the live feed sends too."""
    text: str = row["text"]
    marks = None
    if highlights is not None:
        marks = [HighlightView(start=m.start(), end=m.end()) for m in highlights.finditer(text)]
    return MessageView(
        id=row["id"],
        channel=channel.login,
        channel_id=channel.twitch_id,
        sent_at=row["sent_at"],
        user_id=row["user_id"],
        user_login=row["user_login"],
        display_name=row["display_name"],
        text=text,
        is_action=row["is_action"],
        badges=_as_is(row["badges"]),
        badge_info=_as_is(row["badge_info"]),
        emotes=_as_is(row["emotes"]),
        color=row["color"],
        bits=row["bits"],
        first_msg=row["first_msg"],
        reply_parent_msg_id=row["reply_parent_msg_id"],
        reply_parent_user_login=row["reply_parent_user_login"],
        source_channel_id=row["source_channel_id"],
        deleted=row["deleted_at"] is not None,
        deleted_at=row["deleted_at"],
        highlights=None if marks is None else tuple(marks),
    )


def mod_action(row: asyncpg.Record, channel: ChannelRef) -> ModActionView:
    """A mod_actions row as the item the live feed sends too."""
    return ModActionView(
        id=row["id"],
        channel=channel.login,
        channel_id=channel.twitch_id,
        action=row["action"],
        created_at=row["created_at"],
        target_user_id=row["target_user_id"],
        target_user_login=row["target_user_login"],
        duration_seconds=row["duration_s"],
        target_message_id=row["target_message_id"],
        message_text=row["message_text"],
        moderator_id=row["moderator_id"],
        moderator_login=row["moderator_login"],
        reason=row["reason"],
    )


def usernotice(row: asyncpg.Record, channel: ChannelRef) -> UserNoticeView:
    """A usernotices row as the item the live feed sends too."""
    return UserNoticeView(
        id=row["id"],
        channel=channel.login,
        channel_id=channel.twitch_id,
        sent_at=row["sent_at"],
        notice_type=row["notice_type"],
        message_id=row["message_id"],
        user_id=row["user_id"],
        user_login=row["user_login"],
        display_name=row["display_name"],
        text=row["text"],
        system_msg=row["system_msg"],
        params=row["params"],
    )


def user(row: Mapping[str, Any]) -> UserSummary:
    return UserSummary(
        id=row["id"],
        login=row["login"],
        display_name=row["display_name"],
        first_seen=row["first_seen_at"],
        last_seen=row["last_seen_at"],
        message_count=row["message_count"],
        channel_message_count=row.get("channel_messages"),
        channel_last_seen=row.get("channel_last_seen"),
    )


def channel(row: Mapping[str, Any], message_count: int) -> ChannelOut:
    return ChannelOut(
        id=row["id"],
        name=row["login"],
        twitch_id=row["twitch_id"],
        display_name=row["display_name"],
        is_active=row["is_active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        first_seen=row["first_seen_at"],
        last_seen=row["last_seen_at"],
        message_count=message_count,
    )


def gap(row: Mapping[str, Any]) -> Gap:
    return Gap(
        id=row["id"],
        channel=row["channel"],
        start=row["gap_from"],
        end=row["gap_to"],
        reason=row["reason"],
        open=row["gap_to"] is None,
    )


CSV_HEADER = (
    "id", "channel", "sent_at", "user_id", "user_login", "display_name", "text", "is_action",
    "deleted_at", "bits", "color", "first_msg", "reply_parent_msg_id", "badges", "emotes",
)  # fmt: skip


def csv_row(out: MessageView, encode: Any) -> list[Any]:
    """One CSV record of a message (`encode`: JSON encoder for the list columns)."""
    return [
        out.id,
        out.channel,
        out.sent_at.isoformat(),
        out.user_id or "",
        out.user_login or "",
        out.display_name or "",
        out.text,
        "true" if out.is_action else "false",
        out.deleted_at.isoformat() if out.deleted_at else "",
        "" if out.bits is None else out.bits,
        out.color or "",
        "true" if out.first_msg else "false",
        out.reply_parent_msg_id or "",
        encode(out.badges).decode(),
        encode(out.emotes).decode(),
    ]
