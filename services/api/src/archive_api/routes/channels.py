"""Channels (read side): the list with message counts, one channel, its stats and its gaps."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import PathParameter, QueryParameter

from archive_api import present
from archive_api.deps import Ctx, normalise_login
from archive_api.errors import NotFoundError
from archive_api.pagination import (
    DEFAULT_LIMIT,
    capped_total,
    check_limit,
    check_offset,
    decode_cursor,
    encode_cursor,
    from_micros,
    time_range,
    to_micros,
)
from archive_api.params import (
    CursorParam,
    IntervalParam,
    LimitParam,
    OffsetParam,
    SinceParam,
    UntilParam,
)
from archive_api.queries import channels as cq
from archive_api.queries import stats as sq
from archive_api.routes.moderation import stats_range
from archive_api.schemas import (
    ChannelDetail,
    ChannelList,
    ChannelStats,
    ChannelTotals,
    GapPage,
    HourBucket,
    RangeTotals,
)

Totals = dict[int, tuple[int, int, int, int, int, int]]
"""channel id -> (messages, usernotices, mod_actions, deletions, bans, timeouts), all time."""

NameParam = Annotated[str, PathParameter(description="Channel login.")]


async def all_time_totals(ctx: Ctx) -> Totals:
    """Per-channel all-time sums of the hourly rollup, cached for CACHE_TTL_S."""

    async def compute() -> Totals:
        rows = await sq.channel_totals(ctx.pool)
        return {
            row["channel_id"]: (
                row["messages"],
                row["usernotices"],
                row["mod_actions"],
                row["deletions"],
                row["bans"],
                row["timeouts"],
            )
            for row in rows
        }

    return await ctx.cache.get("channel_totals", Totals, compute)


async def channel_row(ctx: Ctx, name: str) -> dict[str, object]:
    login = normalise_login("name", name)
    row = await cq.by_login(ctx.pool, login)
    if row is None:
        raise NotFoundError(f"name: no channel named {login!r} in the archive")
    return dict(row)


class ChannelController(Controller):
    path = "/api/channels"
    tags = ("channels",)

    @get("/", summary="List channels (monitored and inactive) with message counts")
    async def list_channels(
        self,
        ctx: Ctx,
        active: Annotated[
            bool | None, QueryParameter(description="true: monitored only; false: inactive only.")
        ] = None,
    ) -> ChannelList:
        rows = await cq.all_channels(ctx.pool, active)
        totals = await all_time_totals(ctx)
        return ChannelList(
            channels=[present.channel(dict(row), totals.get(row["id"], (0,))[0]) for row in rows]
        )

    @get("/{name:str}", summary="One channel with its all-time totals and open gaps")
    async def get_channel(self, ctx: Ctx, name: NameParam) -> ChannelDetail:
        row = await channel_row(ctx, name)
        channel_id = int(row["id"])  # type: ignore[call-overload]  # an integer column
        totals = (await all_time_totals(ctx)).get(channel_id, (0, 0, 0, 0, 0, 0))

        async def count_chatters() -> int:
            return await sq.chatters(ctx.pool, channel_id)

        chatters = await ctx.cache.get(f"chatters:{channel_id}", int, count_chatters)
        gaps = await cq.open_gaps(ctx.pool, channel_id)
        return ChannelDetail(
            channel=present.channel(row, totals[0]),
            totals=ChannelTotals(
                messages=totals[0],
                usernotices=totals[1],
                mod_actions=totals[2],
                deletions=totals[3],
                bans=totals[4],
                timeouts=totals[5],
                chatters=chatters,
            ),
            open_gaps=[present.gap(dict(g)) for g in gaps],
        )

    @get(
        "/{name:str}/stats",
        summary="Channel statistics over a time range",
        description="Totals, active users, moderation counts and messages per hour (or day) "
        "over [since, until), default the last 7 days. Cached for CACHE_TTL_S.",
    )
    async def channel_stats(
        self,
        ctx: Ctx,
        name: NameParam,
        since: SinceParam = None,
        until: UntilParam = None,
        interval: IntervalParam = None,
    ) -> ChannelStats:
        start, end, chosen = stats_range(since, until, interval)
        ref = await ctx.channels.resolve(ctx.pool, "name", name)
        key = f"chanstats:{ref.id}:{to_micros(start)}:{to_micros(end)}:{chosen}"

        async def compute() -> ChannelStats:
            pool = ctx.pool
            t = await sq.range_totals(pool, ref.id, start, end)
            active, exact = await sq.active_users(pool, ref.id, start, end, t["messages"])
            buckets = await sq.series(pool, ref.id, start, end, chosen)
            return ChannelStats(
                channel=ref.login,
                since=start,
                until=end,
                interval=chosen,
                totals=RangeTotals(
                    messages=t["messages"],
                    usernotices=t["usernotices"],
                    mod_actions=t["mod_actions"],
                    deletions=t["deletions"],
                    bans=t["bans"],
                    timeouts=t["timeouts"],
                ),
                active_users=active,
                active_users_is_exact=exact,
                series=[
                    HourBucket(
                        start=b["start"],
                        messages=b["messages"],
                        usernotices=b["usernotices"],
                        mod_actions=b["mod_actions"],
                    )
                    for b in buckets
                ],
            )

        return await ctx.cache.get(key, ChannelStats, compute)

    @get(
        "/{name:str}/gaps",
        summary="Coverage gaps of a channel",
        description="Stretches of time the archive was not recording the channel (connection "
        "lost, not joined), newest first; those overlapping [since, until).",
    )
    async def channel_gaps(
        self,
        ctx: Ctx,
        name: NameParam,
        since: SinceParam = None,
        until: UntilParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        cursor: CursorParam = None,
    ) -> GapPage:
        check_limit(limit)
        check_offset(offset, ctx.settings.max_offset, cursor)
        start, end = time_range(since, until)
        pool = ctx.pool
        ref = await ctx.channels.resolve(pool, "name", name)
        after = None
        if cursor:
            micros, gap_id = decode_cursor(cursor, "g", (int, str))
            after = (from_micros(micros), gap_id)
        rows = await cq.gaps(pool, ref.id, start, end, after, limit + 1, offset)
        has_more = len(rows) > limit
        rows = rows[:limit]
        cap = ctx.settings.total_count_cap
        if after is None and not has_more:
            total, exact = offset + len(rows), True
        else:
            total, exact = capped_total(await cq.gap_count(pool, ref.id, start, end, cap), cap)
        next_cursor = None
        if has_more and rows:
            next_cursor = encode_cursor("g", to_micros(rows[-1]["gap_from"]), rows[-1]["id"])
        return GapPage(
            gaps=[present.gap(dict(row)) for row in rows],
            total=total,
            total_is_exact=exact,
            has_more=has_more,
            next_cursor=next_cursor,
        )
