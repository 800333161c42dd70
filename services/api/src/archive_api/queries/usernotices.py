"""SQL of the usernotice list: filtered pages by (sent_at, id) and capped counts."""

# SQL here is assembled from constant fragments; every value travels as a $n parameter.
# ruff: noqa: S608

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import asyncpg

from archive_api.pagination import Order
from archive_api.sql import Where

COLUMNS = (
    "n.id, n.sent_at, n.channel_id, n.notice_type, n.message_id, n.user_id, n.user_login, "
    "n.display_name, n.text, n.system_msg, n.params"
)


@dataclasses.dataclass(frozen=True, slots=True)
class NoticeFilter:
    notice_type: str | None = None
    channel_id: int | None = None
    user_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def where(
    f: NoticeFilter, after: tuple[datetime, str] | None = None, order: Order = "desc"
) -> Where:
    w = Where()
    if f.notice_type is not None:
        w.add("n.notice_type = {}", f.notice_type)
    if f.channel_id is not None:
        w.add("n.channel_id = {}", f.channel_id)
    if f.user_id is not None:
        w.add("n.user_id = {}", f.user_id)
    if f.since is not None:
        w.add("n.sent_at >= {}", f.since)
    if f.until is not None:
        w.add("n.sent_at < {}", f.until)
    if after is not None:
        w.after("n.sent_at, n.id", order, after)
    return w


async def page(
    db: Any,
    f: NoticeFilter,
    order: Order,
    after: tuple[datetime, str] | None,
    limit: int,
    offset: int = 0,
) -> list[asyncpg.Record]:
    w = where(f, after, order)
    direction = "DESC" if order == "desc" else "ASC"
    sql = (
        f"SELECT {COLUMNS} FROM usernotices AS n {w.sql()} "
        f"ORDER BY n.sent_at {direction}, n.id {direction} "
        f"{w.limit_sql(limit, offset)}"
    )
    return list(await db.fetch(sql, *w.args))


async def count_capped(db: Any, f: NoticeFilter, cap: int) -> int:
    w = where(f)
    return int(await db.fetchval(w.count_capped_sql("usernotices AS n", cap), *w.args))
