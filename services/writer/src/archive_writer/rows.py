"""Staging rows: decoded events as tuples in the staging tables' column order.

Tuples are built straight from the msgspec Structs (no dicts in between), and the intake turns
each delivered message into one, or into a dead letter: undecodable, against the contract, or
with an invalid channel login.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import msgspec
import structlog
from nats.aio.msg import Msg

from archive_writer.dead_letter import DeadLetter, Reason, backoff_delay
from archive_writer.errors import RowRejectedError, TransientStoreError
from twitch_archive.codec import decode_event
from twitch_archive.errors import ContractError
from twitch_archive.events import ChatEvent, CoverageGap, Message, ModAction, UserNotice
from twitch_archive.subjects import validate_channel

if TYPE_CHECKING:
    from archive_writer.store import Channels

log = structlog.get_logger("archive_writer.rows")

Row = tuple[Any, ...]

MESSAGES: Final = 0
USERNOTICES: Final = 1
MOD_ACTIONS: Final = 2
KIND_TABLES: Final = ("messages", "usernotices", "mod_actions")

MESSAGE_COLUMNS: Final = (
    "id", "ts", "channel_id", "user_id", "user_login", "display_name", "text", "is_action",
    "badges", "badge_info", "emotes", "color", "bits", "first_msg", "reply_parent_msg_id",
    "reply_parent_user_login", "source_channel_id",
)  # fmt: skip
USERNOTICE_COLUMNS: Final = (
    "id", "ts", "channel_id", "notice_type", "message_id", "user_id", "user_login",
    "display_name", "text", "system_msg", "params",
)  # fmt: skip
MOD_ACTION_COLUMNS: Final = (
    "id", "ts", "channel_id", "action", "target_user_id", "target_user_login", "duration_s",
    "target_message_id", "message_text", "moderator_id", "moderator_login", "reason",
)  # fmt: skip


def message_row(event: Message, channel_id: int) -> Row:
    """The staging row of a chat message (MESSAGE_COLUMNS order)."""
    return (
        event.id, event.ts, channel_id, event.user_id, event.user_login, event.display_name,
        event.text, event.is_action, event.badges, event.badge_info, event.emotes, event.color,
        event.bits, event.first_msg, event.reply_parent_msg_id, event.reply_parent_user_login,
        event.source_channel_id,
    )  # fmt: skip


def usernotice_row(event: UserNotice, channel_id: int) -> Row:
    """The staging row of a user notice (USERNOTICE_COLUMNS order)."""
    return (
        event.id, event.ts, channel_id, event.notice_type, event.message_id, event.user_id,
        event.user_login, event.display_name, event.text, event.system_msg, event.params,
    )  # fmt: skip


def mod_action_row(event: ModAction, channel_id: int) -> Row:
    """The staging row of a moderation action (MOD_ACTION_COLUMNS order)."""
    return (
        event.id, event.ts, channel_id, event.action, event.target_user_id,
        event.target_user_login, event.duration_s, event.target_message_id, event.message_text,
        event.moderator_id, event.moderator_login, event.reason,
    )  # fmt: skip


def row_for(event: ChatEvent, channel_id: int) -> tuple[int, Row]:
    """The table (MESSAGES, USERNOTICES, MOD_ACTIONS) and staging row of a batched event."""
    kind = type(event)
    if kind is Message:
        return MESSAGES, message_row(event, channel_id)  # type: ignore[arg-type]  # checked above
    if kind is UserNotice:
        return USERNOTICES, usernotice_row(event, channel_id)  # type: ignore[arg-type]  # same
    if kind is ModAction:
        return MOD_ACTIONS, mod_action_row(event, channel_id)  # type: ignore[arg-type]  # same
    raise TypeError(f"{kind.__name__} events are not batched")


Entry = tuple[int, Row, Msg]
"""(table, staging row, the message it came from)"""


class RowMaker:
    """Turns delivered messages into staging rows; the ones that cannot be go to dead letters."""

    def __init__(
        self,
        channels: Channels,
        dead_letter: DeadLetter,
        *,
        retry_min_s: float,
        retry_max_s: float,
        record_gap: Callable[[CoverageGap, int], Awaitable[None]],
        ack: Callable[[Sequence[Msg]], Awaitable[None]],
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self._channels = channels
        self._dead_letter = dead_letter
        self._record_gap = record_gap
        self._ack = ack
        self._retry = (retry_min_s, retry_max_s)
        self._on_retry = on_retry

    async def prepare(self, msgs: Sequence[Msg]) -> list[Entry]:
        """One entry per message that decodes into a storable event, in delivery order."""
        out: list[Entry] = []
        append = out.append
        get_channel = self._channels.get
        for msg in msgs:
            try:
                event = decode_event(msg.data)
            except ContractError as exc:
                reason = (
                    Reason.CONTRACT_VIOLATION
                    if isinstance(exc.__cause__, msgspec.ValidationError)
                    else Reason.UNDECODABLE
                )
                await self._dead_letter.offer(msg, reason, exc.reason)
                continue
            channel_id = get_channel(event.channel, event.channel_id)
            if channel_id is None:
                channel_id = await self._resolve(msg, event)
                if channel_id is None:
                    continue
            if type(event) is CoverageGap:
                await self._store_gap(msg, event, channel_id)
                continue
            kind, row = row_for(event, channel_id)
            append((kind, row, msg))
        return out

    async def _store_gap(self, msg: Msg, event: CoverageGap, channel_id: int) -> None:
        """Store a coverage gap on its own (rare, idempotent), then ack its message."""
        attempt = 0
        while True:
            try:
                await self._record_gap(event, channel_id)
            except RowRejectedError as exc:
                await self._dead_letter.offer(msg, Reason.STORE_REJECTED, exc.reason)
                return
            except TransientStoreError as exc:
                delay = backoff_delay(attempt, *self._retry)
                attempt += 1
                if self._on_retry is not None:
                    self._on_retry(str(exc) or "connection")
                log.warning("gap_store_retry", channel=event.channel, retry_in_s=round(delay, 2))
                await asyncio.sleep(delay)
                continue
            await self._ack([msg])
            return

    async def _resolve(self, msg: Msg, event: ChatEvent) -> int | None:
        """The channel's id, upserting it; None when the event was dead-lettered instead."""
        try:
            validate_channel(event.channel)
        except ValueError as exc:
            await self._dead_letter.offer(msg, Reason.INVALID_CHANNEL, str(exc))
            return None
        attempt = 0
        while True:
            try:
                return await self._channels.resolve(event.channel, event.channel_id)
            except RowRejectedError as exc:
                await self._dead_letter.offer(msg, Reason.STORE_REJECTED, exc.reason)
                return None
            except TransientStoreError as exc:
                delay = backoff_delay(attempt, *self._retry)
                attempt += 1
                if self._on_retry is not None:
                    self._on_retry(str(exc) or "connection")
                log.warning(
                    "channel_resolve_retry", channel=event.channel, retry_in_s=round(delay, 2)
                )
                await asyncio.sleep(delay)
