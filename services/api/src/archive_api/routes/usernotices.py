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
    check_limit,
    check_offset,
    keyset_after,
    time_page,
    time_range,
)
from archive_api.params import (
    ChannelParam,
    CursorParam,
    LimitParam,
    OffsetParam,
    OrderParam,
    SinceParam,
    UntilParam,
    UserParam,
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
        channel: ChannelParam = None,
        user: UserParam = None,
        since: SinceParam = None,
        until: UntilParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        order: OrderParam = "desc",
        cursor: CursorParam = None,
    ) -> UserNoticePage:
        check_limit(limit)
        check_offset(offset, ctx.settings.max_offset, cursor)
        start, end = time_range(since, until)
        pool = ctx.pool
        kind, after = keyset_after("n", order, cursor)
        ref = await ctx.channels.resolve(pool, "channel", channel) if channel else None
        f = nq.NoticeFilter(
            notice_type=check_notice_type(type_),
            channel_id=ref.id if ref else None,
            user_id=(await resolve_user(pool, "user", user)).id if user else None,
            since=start,
            until=end,
        )
        cap = ctx.settings.total_count_cap
        page = await time_page(
            kind=kind,
            after=after,
            limit=limit,
            offset=offset,
            fetch=lambda n: nq.page(pool, f, order, after, n, offset),
            count=lambda: ctx.counts.get(("n", f), lambda: nq.count_capped(pool, f, cap)),
            cap=cap,
            time_column="sent_at",
        )
        refs = await ctx.channels.refs(pool, {row["channel_id"] for row in page.rows})
        return page.body(
            UserNoticePage,
            usernotices=[present.usernotice(row, refs[row["channel_id"]]) for row in page.rows],
        )
