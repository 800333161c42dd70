"""Moderation actions: filtered lists, the latest 100, and aggregate stats."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final, Literal

from litestar import Controller, get
from litestar.params import QueryParameter

from archive_api import present
from archive_api.deps import Ctx, normalise_login, resolve_user
from archive_api.errors import InvalidParameterError, NotFoundError
from archive_api.pagination import (
    DEFAULT_LIMIT,
    Order,
    check_limit,
    check_offset,
    keyset_after,
    time_page,
    time_range,
    to_micros,
)
from archive_api.params import (
    ChannelParam,
    CursorParam,
    IntervalParam,
    LimitParam,
    OffsetParam,
    OrderParam,
    SinceParam,
    UntilParam,
)
from archive_api.queries import moderation as aq
from archive_api.queries import stats as sq
from archive_api.schemas import (
    ModActionList,
    ModActionPage,
    ModActionStats,
    ModBucket,
    ModeratorCount,
)

ACTION: Final = re.compile(r"[a-z_]{1,32}")
DEFAULT_STATS_RANGE: Final = timedelta(days=7)
MAX_BUCKETS: Final = 10_000


def check_action(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    action = value.strip().lower()
    if ACTION.fullmatch(action) is None:
        raise InvalidParameterError(
            "type", f"{value[:40]!r} is not an action type (ban, timeout, delete, clear, ...)"
        )
    return action


async def action_page(
    ctx: Ctx,
    *,
    action: str | None,
    channel: str | None,
    moderator: str | None,
    target: tuple[str | None, tuple[str, ...]] | None,
    since: str | None,
    until: str | None,
    order: Order,
    limit: int,
    offset: int,
    cursor: str | None,
) -> ModActionPage:
    """The shared body of the moderation lists."""
    check_limit(limit)
    check_offset(offset, ctx.settings.max_offset, cursor)
    start, end = time_range(since, until)
    pool = ctx.pool
    kind, after = keyset_after("a", order, cursor)
    f = aq.ActionFilter(
        action=check_action(action),
        channel_id=(await ctx.channels.resolve(pool, "channel", channel)).id if channel else None,
        moderator=normalise_login("moderator", moderator) if moderator else None,
        target_id=target[0] if target else None,
        target_logins=target[1] if target else (),
        since=start,
        until=end,
    )
    cap = ctx.settings.total_count_cap
    page = await time_page(
        kind=kind,
        after=after,
        limit=limit,
        offset=offset,
        fetch=lambda n: aq.page(pool, f, order, after, n, offset),
        count=lambda: ctx.counts.get(("a", f), lambda: aq.count_capped(pool, f, cap)),
        cap=cap,
        time_column="created_at",
    )
    refs = await ctx.channels.refs(pool, {row["channel_id"] for row in page.rows})
    return page.body(
        ModActionPage,
        mod_actions=[present.mod_action(row, refs[row["channel_id"]]) for row in page.rows],
    )


async def resolve_target(ctx: Ctx, target: str) -> tuple[str | None, tuple[str, ...]]:
    """A target by login or `id:`: its id and logins; a login nobody chatted with still
    filters by login (people are banned before they ever write)."""
    try:
        user = await resolve_user(ctx.pool, "target", target)
    except NotFoundError:
        if target.strip()[:3].lower() == "id:":
            return target.strip()[3:], ()
        return None, (normalise_login("target", target),)
    names = await ctx.pool.fetch("SELECT login FROM user_names WHERE user_id = $1", user.id)
    return user.id, tuple({user.login, *(row["login"] for row in names)})


def stats_range(
    since: str | None, until: str | None, interval: str | None
) -> tuple[datetime, datetime, Literal["hour", "day"]]:
    """[since, until) with defaults (the last 7 days) and a bucket size that keeps the series
    under 10,000 buckets."""
    start, end = time_range(since, until)
    if end is None:
        # The next whole minute: requests of the same minute share one cache entry.
        end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = start or end - DEFAULT_STATS_RANGE
    if interval not in (None, "hour", "day"):
        raise InvalidParameterError("interval", "must be hour or day")
    chosen: Literal["hour", "day"] = interval or (  # type: ignore[assignment]  # checked above
        "hour" if end - start <= timedelta(days=7) else "day"
    )
    step = timedelta(hours=1) if chosen == "hour" else timedelta(days=1)
    if (end - start) / step > MAX_BUCKETS:
        raise InvalidParameterError(
            "interval", f"more than {MAX_BUCKETS} {chosen}s in [since, until): narrow the range"
        )
    return start, end, chosen


class ModerationController(Controller):
    path = "/api/mod-actions"
    tags = ("moderation",)

    @get("/", summary="List moderation actions", description="Newest first, filtered.")
    async def list_actions(
        self,
        ctx: Ctx,
        type_: Annotated[
            str | None,
            QueryParameter(name="type", description="ban, timeout, delete, clear, unban, ..."),
        ] = None,
        channel: ChannelParam = None,
        moderator: Annotated[
            str | None, QueryParameter(description="Moderator login (known for EventSub only).")
        ] = None,
        target: Annotated[
            str | None, QueryParameter(description="Target login or `id:<twitch user id>`.")
        ] = None,
        since: SinceParam = None,
        until: UntilParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        order: OrderParam = "desc",
        cursor: CursorParam = None,
    ) -> ModActionPage:
        resolved = await resolve_target(ctx, target) if target else None
        return await action_page(
            ctx,
            action=type_,
            channel=channel,
            moderator=moderator,
            target=resolved,
            since=since,
            until=until,
            order=order,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )

    @get("/recent", summary="The latest moderation actions (at most 100)")
    async def recent_actions(
        self,
        ctx: Ctx,
        channel: ChannelParam = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="1 to 100.")] = 100,
    ) -> ModActionList:
        pool = ctx.pool
        channel_id = (await ctx.channels.resolve(pool, "channel", channel)).id if channel else None
        rows = await aq.page(pool, aq.ActionFilter(channel_id=channel_id), "desc", None, limit)
        refs = await ctx.channels.refs(pool, {row["channel_id"] for row in rows})
        return ModActionList(
            mod_actions=[present.mod_action(row, refs[row["channel_id"]]) for row in rows]
        )

    @get(
        "/stats",
        summary="Moderation statistics",
        description="Counts by type, the most active moderators (where known) and actions per "
        "hour or day over [since, until) (default: the last 7 days). Cached for CACHE_TTL_S.",
    )
    async def action_stats(
        self,
        ctx: Ctx,
        channel: ChannelParam = None,
        since: SinceParam = None,
        until: UntilParam = None,
        interval: IntervalParam = None,
    ) -> ModActionStats:
        start, end, chosen = stats_range(since, until, interval)
        pool = ctx.pool
        ref = await ctx.channels.resolve(pool, "channel", channel) if channel else None
        key = f"modstats:{ref.id if ref else '*'}:{to_micros(start)}:{to_micros(end)}:{chosen}"

        async def compute() -> ModActionStats:
            f = aq.ActionFilter(channel_id=ref.id if ref else None, since=start, until=end)
            types = await aq.by_type(pool, f)
            mods = await aq.top_moderators(pool, f, 10)
            buckets = await sq.series(pool, ref.id if ref else None, start, end, chosen)
            return ModActionStats(
                channel=ref.login if ref else None,
                since=start,
                until=end,
                interval=chosen,
                total=sum(int(row["n"]) for row in types),
                by_type={row["action"]: int(row["n"]) for row in types},
                top_moderators=[ModeratorCount(login=r["login"], actions=r["n"]) for r in mods],
                series=[
                    ModBucket(
                        start=row["start"],
                        mod_actions=row["mod_actions"],
                        bans=row["bans"],
                        timeouts=row["timeouts"],
                        deletions=row["deletions"],
                    )
                    for row in buckets
                ],
            )

        return await ctx.cache.get(key, ModActionStats, compute)
