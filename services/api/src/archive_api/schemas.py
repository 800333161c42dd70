"""REST bodies: msgspec Structs, camelCase on the wire (`hasMore`).

These are the api's own shapes, never the event Structs of `twitch_archive.events`: the REST
audience and the event contract evolve at different speeds. The items themselves (a message, a
mod action) are `twitch_archive.views`, shared with the live gateway, so a client renders a live
frame and a stored item with the same code. Times are RFC 3339 strings in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from twitch_archive.views import MessageView, ModActionView, UserNoticeView


class Body(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of every response body."""


# ------------------------------------------------------------------------------- messages


class Page(Body, frozen=True):
    """What every list says besides its items: the seed's `{total, hasMore}` plus the cursor."""

    total: int
    """Rows matching the filters, counted up to TOTAL_COUNT_CAP."""
    total_is_exact: bool
    """False when `total` stopped at the cap: there are more."""
    has_more: bool
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page."""


class MessagePage(Page, frozen=True):
    """A page of messages: the seed's `{messages, total, hasMore}` plus the cursor."""

    messages: list[MessageView]


class MessageContext(Body, frozen=True):
    """A message and the messages around it in its channel."""

    message: MessageView
    before: list[MessageView]
    """Oldest first, ending just before `message`."""
    after: list[MessageView]
    """Oldest first, starting just after `message`."""


# ------------------------------------------------------------------------------- users


class UserSummary(Body, frozen=True):
    """A user in a list."""

    id: str
    login: str
    display_name: str | None
    first_seen: datetime
    last_seen: datetime
    message_count: int
    channel_message_count: int | None = None
    """With `channel=`: messages in that channel."""
    channel_last_seen: datetime | None = None
    """With `channel=`: last message in that channel."""


class UserPage(Page, frozen=True):
    users: list[UserSummary]


class UserChannel(Body, frozen=True):
    """A user's activity in one channel."""

    channel: str
    channel_id: str | None
    """Twitch room id."""
    messages: int
    first_seen: datetime
    last_seen: datetime


class UserProfile(Body, frozen=True):
    """A user with their stats: message count, first and last seen, channels."""

    id: str
    login: str
    display_name: str | None
    first_seen: datetime
    last_seen: datetime
    message_count: int
    channel_count: int
    channels: list[UserChannel]
    """Most active first (at most 100)."""
    previous_logins: list[str]


class UserStats(Body, frozen=True):
    """Totals of one user: messages, channels, and moderation against them."""

    id: str
    login: str
    total_messages: int
    channels_active: int
    bans: int
    timeouts: int
    unbans: int
    deletions: int
    """Messages of theirs deleted by moderators."""
    last_ban_at: datetime | None
    last_timeout_at: datetime | None
    timeout_seconds_total: int
    channels: list[UserChannel]
    """Most active first (at most 10)."""


class UserName(Body, frozen=True):
    login: str
    first_seen: datetime
    last_seen: datetime
    current: bool


class UserNames(Body, frozen=True):
    """Every login a Twitch user id has had, newest first."""

    id: str
    login: str
    names: list[UserName]


# ------------------------------------------------------------------------------- moderation


class ModActionPage(Page, frozen=True):
    mod_actions: list[ModActionView]


class UserNoticePage(Page, frozen=True):
    usernotices: list[UserNoticeView]


class ModActionList(Body, frozen=True):
    mod_actions: list[ModActionView]


class ModeratorCount(Body, frozen=True):
    login: str
    actions: int


class ModBucket(Body, frozen=True):
    """Moderation in one hour or day (from the hourly rollup)."""

    start: datetime
    mod_actions: int
    bans: int
    timeouts: int
    deletions: int


class ModActionStats(Body, frozen=True):
    channel: str | None
    since: datetime
    until: datetime
    interval: Literal["hour", "day"]
    total: int
    by_type: dict[str, int]
    top_moderators: list[ModeratorCount]
    """Where known: IRC never names moderators, so IRC-only archives have none."""
    series: list[ModBucket]


# ------------------------------------------------------------------------------- channels


class ChannelOut(Body, frozen=True):
    """A channel of the archive (`isActive`: in the desired set, joined by the ingestors)."""

    id: int
    name: str
    twitch_id: str | None
    display_name: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    first_seen: datetime | None
    last_seen: datetime | None
    message_count: int


class ChannelList(Body, frozen=True):
    channels: list[ChannelOut]


class Gap(Body, frozen=True):
    """A stretch of time a channel was not recorded (`to` null: still open)."""

    id: str
    channel: str
    start: datetime
    end: datetime | None
    reason: str | None
    open: bool


class GapPage(Page, frozen=True):
    gaps: list[Gap]


class ChannelTotals(Body, frozen=True):
    """All-time totals of a channel (from the rollups)."""

    messages: int
    usernotices: int
    mod_actions: int
    deletions: int
    bans: int
    timeouts: int
    chatters: int
    """Users who ever wrote in the channel."""


class ChannelDetail(Body, frozen=True):
    channel: ChannelOut
    totals: ChannelTotals
    open_gaps: list[Gap]


class HourBucket(Body, frozen=True):
    """Counts of one hour or day (from the hourly rollup)."""

    start: datetime
    messages: int
    usernotices: int
    mod_actions: int


class RangeTotals(Body, frozen=True):
    messages: int
    usernotices: int
    mod_actions: int
    deletions: int
    bans: int
    timeouts: int


class ChannelStats(Body, frozen=True):
    channel: str
    since: datetime
    until: datetime
    interval: Literal["hour", "day"]
    totals: RangeTotals
    active_users: int
    active_users_is_exact: bool
    """False for long ranges: then users whose activity in the channel overlaps the range."""
    series: list[HourBucket]
    """Messages per hour (or day): the seed's "messages per hour"."""


class TopChannel(Body, frozen=True):
    channel: str
    messages: int


class TopUser(Body, frozen=True):
    user_id: str
    login: str
    messages: int


class Overview(Body, frozen=True):
    """Archive health for the dashboard's Home page."""

    messages_total: int
    mod_actions_total: int
    channels_total: int
    channels_active: int
    users_tracked: int
    messages_last_day: int
    mod_actions_last_day: int
    newest_message_at: datetime | None
    ingest_lag_seconds: float | None
    """Now minus the newest stored message: grows when ingest stalls (or chat is quiet)."""
    open_gaps: int
    hours: int
    series: list[HourBucket]
    """Messages per hour over the last `hours` hours, oldest first, every hour present."""
    top_channels: list[TopChannel]
    """Most messages over the last `hours` hours."""
    top_users: list[TopUser]
    """Who wrote the most of the newest `topUsersSample` messages (all channels)."""
    top_users_sample: int


# ------------------------------------------------------------------------------- admin


class ChannelCreate(msgspec.Struct, frozen=True, kw_only=True):
    """POST /api/channels body."""

    name: str


class ChannelPatch(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH /api/channels/{name} body: `isActive` (the seed's `is_active` is accepted too)."""

    is_active: bool | None = msgspec.field(default=None, name="isActive")
    is_active_snake: bool | None = msgspec.field(default=None, name="is_active")


class ControlAccepted(Body, frozen=True):
    channel: str
    action: Literal["rejoin"]
    notified: bool
    """The ingestors were told over NATS."""


# ------------------------------------------------------------------------------- health


class Health(Body, frozen=True):
    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, str]


# ------------------------------------------------------------------------------- dashboard


class ClientConfig(Body, frozen=True):
    """Deployment facts the dashboard reads once at start."""

    live_url: str
    """WebSocket URL of the live feed, absolute or relative to the page's origin."""
