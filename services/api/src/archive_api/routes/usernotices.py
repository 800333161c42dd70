"""Usernotices: subs, resubs, gift subs, raids, announcements, newest first, filtered."""

from __future__ import annotations

import re
from typing import Annotated, Final

from litestar import Controller, get
from litestar.params import QueryParameter

from archive_api import present
from archive_api.deps import Ctx, resolve_user
from archive_api.errors import InvalidParameterError
from archive_api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Order,
    capped_total,
    check_limit,
    check_offset,
    decode_cursor,
    encode_cursor,
    from_micros,
    time_range,
    to_micros,
)
from archive_api.queries import usernotices as nq
from archive_api.schemas import UserNoticePage

NOTICE_TYPE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_notice_type(value: str | None) -> str | None:
    if not value:
        return None
    notice_type = value.strip()
    if NOTICE_TYPE.fullmatch(notice_type) is None:
        raise InvalidParameterError(
            "type", f"{value[:40]!r} is not a notice type (sub, resub, subgift, raid, ...)"
        )
    return notice_type


class UserNoticeController(Controller):
    path = "/api/usernotices"
    tags = ("usernotices",)

    @get(
        "/",
        summary="List usernotices",
        description="Subs, resubs, gift subs, raids, announcements, ... newest first; unknown "
        "kinds are listed under their own `noticeType`.",
    )
    async def list_notices(
        self,
        ctx: Ctx,
        type_: Annotated[
            str | None,
            QueryParameter(name="type", description="sub, resub, subgift, raid, announcement, ..."),
        ] = None,
        channel: Annotated[str | None, QueryParameter(description="Channel login.")] = None,
        user: Annotated[
            str | None, QueryParameter(description="User login or `id:<twitch user id>`.")
        ] = None,
        since: Annotated[str | None, QueryParameter(description="ISO 8601 or epoch ms.")] = None,
        until: Annotated[str | None, QueryParameter(description="ISO 8601 or epoch ms.")] = None,
        limit: Annotated[
            int, QueryParameter(description=f"1 to {MAX_LIMIT}.", ge=1, le=MAX_LIMIT)
        ] = DEFAULT_LIMIT,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        order: Annotated[Order, QueryParameter(description="desc or asc.")] = "desc",
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
    ) -> UserNoticePage:
        check_limit(limit)
        check_offset(offset, ctx.settings.max_offset, cursor)
        start, end = time_range(since, until)
        pool = ctx.pool
        kind = "n" + ("d" if order == "desc" else "a")
        after = None
        if cursor:
            micros, notice_id = decode_cursor(cursor, kind, (int, str))
            after = (from_micros(micros), notice_id)
        f = nq.NoticeFilter(
            notice_type=check_notice_type(type_),
            channel_id=(await ctx.channels.resolve(pool, "channel", channel)).id
            if channel
            else None,
            user_id=(await resolve_user(pool, "user", user)).id if user else None,
            since=start,
            until=end,
        )
        rows = await nq.page(pool, f, order, after, limit + 1, offset)
        has_more = len(rows) > limit
        rows = rows[:limit]
        cap = ctx.settings.total_count_cap
        if after is None and not has_more:
            total, exact = offset + len(rows), True
        else:
            counted = await ctx.counts.get(("n", f), lambda: nq.count_capped(pool, f, cap))
            total, exact = capped_total(counted, cap)
        refs = await ctx.channels.refs(pool, {row["channel_id"] for row in rows})
        next_cursor = None
        if has_more and rows:
            last = rows[-1]
            next_cursor = encode_cursor(kind, to_micros(last["sent_at"]), last["id"])
        return UserNoticePage(
            usernotices=[present.usernotice(row, refs[row["channel_id"]]) for row in rows],
            total=total,
            total_is_exact=exact,
            has_more=has_more,
            next_cursor=next_cursor,
        )
