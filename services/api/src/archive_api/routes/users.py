"""Users: lists, profiles, a user's messages across every channel, moderation, names, stats.

`{username}` is a login (current or past: renames keep one history, keyed by Twitch id) or
`id:<twitch user id>`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import PathParameter, QueryParameter

from archive_api import present
from archive_api.deps import Ctx, normalise_login, resolve_user
from archive_api.pagination import (
    DEFAULT_LIMIT,
    capped_total,
    check_limit,
    check_offset,
    decode_cursor,
    encode_cursor,
    from_micros,
    to_micros,
)
from archive_api.params import (
    ChannelParam,
    CursorParam,
    DeletedOnlyParam,
    IncludeDeletedParam,
    LimitParam,
    OffsetParam,
    OrderParam,
    SinceParam,
    UntilParam,
)
from archive_api.queries import users as uq
from archive_api.routes.messages import (
    FormatParam,
    message_filter,
    message_page,
)
from archive_api.routes.moderation import action_page
from archive_api.schemas import (
    MessagePage,
    ModActionPage,
    UserChannel,
    UserName,
    UserNames,
    UserPage,
    UserProfile,
    UserStats,
)

UsernameParam = Annotated[
    str, PathParameter(description="Login (current or past) or `id:<twitch user id>`.")
]


async def user_channels(ctx: Ctx, user_id: str, limit: int) -> list[UserChannel]:
    pool = ctx.pool
    rows = await uq.channels_of(pool, user_id, limit)
    refs = await ctx.channels.refs(pool, {row["channel_id"] for row in rows})
    return [
        UserChannel(
            channel=refs[row["channel_id"]].login,
            channel_id=refs[row["channel_id"]].twitch_id,
            messages=row["messages"],
            first_seen=row["first_seen_at"],
            last_seen=row["last_seen_at"],
        )
        for row in rows
    ]


class UserController(Controller):
    path = "/api/users"
    tags = ("users",)

    @get(
        "/",
        summary="List users",
        description="By login (with `search`: logins starting with it), or with `channel`: that "
        "channel's chatters, most recently active there first.",
    )
    async def list_users(
        self,
        ctx: Ctx,
        search: Annotated[
            str | None, QueryParameter(description="Login prefix (case-insensitive).")
        ] = None,
        channel: ChannelParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        cursor: CursorParam = None,
    ) -> UserPage:
        check_limit(limit)
        check_offset(offset, ctx.settings.max_offset, cursor)
        pool = ctx.pool
        prefix = normalise_login("search", search) if search and search.strip() else None
        cap = ctx.settings.total_count_cap
        if channel:
            ref = await ctx.channels.resolve(pool, "channel", channel)
            after_c = None
            if cursor:
                micros, user_id = decode_cursor(cursor, "uc", (int, str))
                after_c = (from_micros(micros), user_id)
            rows = await uq.page_by_channel(pool, ref.id, prefix, after_c, limit + 1, offset)
            channel_id: int | None = ref.id
        else:
            after_l = None
            if cursor:
                login, user_id = decode_cursor(cursor, "ul", (str, str))
                after_l = (login, user_id)
            rows = await uq.page_by_login(pool, prefix, after_l, limit + 1, offset)
            channel_id = None
        has_more = len(rows) > limit
        rows = rows[:limit]
        if not cursor and not has_more:
            total, exact = offset + len(rows), True
        else:
            counted = await ctx.counts.get(
                ("u", prefix, channel_id), lambda: uq.count_capped(pool, prefix, channel_id, cap)
            )
            total, exact = capped_total(counted, cap)
        next_cursor = None
        if has_more and rows:
            last = rows[-1]
            next_cursor = (
                encode_cursor("uc", to_micros(last["channel_last_seen"]), last["id"])
                if channel_id is not None
                else encode_cursor("ul", last["login"], last["id"])
            )
        return UserPage(
            users=[present.user(dict(row)) for row in rows],
            total=total,
            total_is_exact=exact,
            has_more=has_more,
            next_cursor=next_cursor,
        )

    @get("/{username:str}", summary="A user's profile with stats")
    async def get_user(self, ctx: Ctx, username: UsernameParam) -> UserProfile:
        pool = ctx.pool
        user = await resolve_user(pool, "username", username)
        channels = await user_channels(ctx, user.id, 100)
        count = len(channels) if len(channels) < 100 else await uq.channel_count(pool, user.id)
        names = await uq.names(pool, user.id)
        return UserProfile(
            id=user.id,
            login=user.login,
            display_name=user.display_name,
            first_seen=user.first_seen,
            last_seen=user.last_seen,
            message_count=user.message_count,
            channel_count=count,
            channels=channels,
            previous_logins=[row["login"] for row in names if row["login"] != user.login],
        )

    @get(
        "/{username:str}/messages",
        summary="A user's messages across every channel",
        description="One query over the (user_id, sent_at) index: every channel at once, or "
        "`channel=` for one. Same parameters, shapes and exports as GET /api/messages.",
    )
    async def user_messages(
        self,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        username: UsernameParam,
        channel: ChannelParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        since: SinceParam = None,
        until: UntilParam = None,
        search: Annotated[str | None, QueryParameter(description="Words to match.")] = None,
        include_deleted: IncludeDeletedParam = False,
        deleted_only: DeletedOnlyParam = False,
        order: OrderParam = "desc",
        cursor: CursorParam = None,
        format: FormatParam = None,
    ) -> MessagePage:
        pool = ctx.pool
        user = await resolve_user(pool, "username", username)
        channel_id = (await ctx.channels.resolve(pool, "channel", channel)).id if channel else None
        f = message_filter(
            channel_id=channel_id,
            user_id=user.id,
            since=since,
            until=until,
            include_deleted=include_deleted,
            deleted_only=deleted_only,
            search=search,
        )
        return await message_page(
            ctx, request, f, order=order, limit=limit, offset=offset, cursor=cursor, fmt=format
        )

    @get(
        "/{username:str}/mod-actions",
        summary="Moderation actions against a user",
        description="Bans, timeouts, unbans (by Twitch id) and deletions of their messages (by "
        "login, past logins included), newest first.",
    )
    async def user_mod_actions(
        self,
        ctx: Ctx,
        username: UsernameParam,
        type_: Annotated[
            str | None, QueryParameter(name="type", description="ban, timeout, delete, ...")
        ] = None,
        channel: ChannelParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        since: SinceParam = None,
        until: UntilParam = None,
        order: OrderParam = "desc",
        cursor: CursorParam = None,
    ) -> ModActionPage:
        pool = ctx.pool
        user = await resolve_user(pool, "username", username)
        logins = tuple(row["login"] for row in await uq.names(pool, user.id)) or (user.login,)
        return await action_page(
            ctx,
            action=type_,
            channel=channel,
            moderator=None,
            target=(user.id, logins),
            since=since,
            until=until,
            order=order,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )

    @get("/{username:str}/stats", summary="A user's totals and moderation counts")
    async def user_stats(self, ctx: Ctx, username: UsernameParam) -> UserStats:
        pool = ctx.pool
        user = await resolve_user(pool, "username", username)

        async def compute() -> UserStats:
            logins = [row["login"] for row in await uq.names(pool, user.id)] or [user.login]
            counts = await uq.moderation_counts(pool, user.id, logins)
            channels = await user_channels(ctx, user.id, 10)
            active = len(channels) if len(channels) < 10 else await uq.channel_count(pool, user.id)
            return UserStats(
                id=user.id,
                login=user.login,
                total_messages=user.message_count,
                channels_active=active,
                bans=counts["bans"],
                timeouts=counts["timeouts"],
                unbans=counts["unbans"],
                deletions=counts["deletions"],
                last_ban_at=counts["last_ban_at"],
                last_timeout_at=counts["last_timeout_at"],
                timeout_seconds_total=int(counts["timeout_seconds"]),
                channels=channels,
            )

        return await ctx.cache.get(f"user_stats:{user.id}", UserStats, compute)

    @get("/{username:str}/names", summary="Every login a user has had")
    async def user_names(self, ctx: Ctx, username: UsernameParam) -> UserNames:
        pool = ctx.pool
        user = await resolve_user(pool, "username", username)
        names = [
            UserName(
                login=row["login"],
                first_seen=row["first_seen_at"],
                last_seen=row["last_seen_at"],
                current=row["login"] == user.login,
            )
            for row in await uq.names(pool, user.id)
        ]
        if not any(name.current for name in names):
            # user_names starts at a user's first rename: until then the one login they have
            # had is the users row's, over the whole time they have been seen.
            current = UserName(
                login=user.login, first_seen=user.first_seen, last_seen=user.last_seen, current=True
            )
            names.insert(0, current)
        return UserNames(id=user.id, login=user.login, names=names)
