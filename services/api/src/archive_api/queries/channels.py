"""SQL of the channel endpoints: rows, the desired set's writes, coverage gaps."""

# SQL here is assembled from constant fragments; every value travels as a $n parameter.
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from archive_api.sql import Where

COLUMNS = (
    "id, login, twitch_id, display_name, is_active, created_at, updated_at, first_seen_at, "
    "last_seen_at"
)


async def all_channels(db: Any, active: bool | None) -> list[asyncpg.Record]:
    if active is None:
        return list(await db.fetch(f"SELECT {COLUMNS} FROM channels ORDER BY login"))
    return list(
        await db.fetch(
            f"SELECT {COLUMNS} FROM channels WHERE is_active = $1 ORDER BY login", active
        )
    )


async def by_login(db: Any, login: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        f"SELECT {COLUMNS} FROM channels WHERE login = $1", login
    )
    return row


async def add(db: Any, login: str) -> tuple[asyncpg.Record, bool]:
    """Insert `login` as active, or reactivate it; (row, created)."""
    row = await db.fetchrow(
        f"""
        INSERT INTO channels (login) VALUES ($1)
        ON CONFLICT (login) DO UPDATE SET is_active = true
        RETURNING {COLUMNS}, (xmax = 0) AS created
        """,
        login,
    )
    assert row is not None
    return row, bool(row["created"])


async def set_active(db: Any, login: str, active: bool) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        f"UPDATE channels SET is_active = $2 WHERE login = $1 RETURNING {COLUMNS}", login, active
    )
    return row


async def message_count(db: Any, channel_id: int) -> int:
    return int(
        await db.fetchval(
            "SELECT coalesce(sum(messages), 0) FROM channel_hourly_stats WHERE channel_id = $1",
            channel_id,
        )
    )


def gap_where(
    channel_id: int,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None = None,
) -> Where:
    w = Where()
    w.add("channel_id = {}", channel_id)
    if since is not None:
        w.add("(gap_to IS NULL OR gap_to >= {})", since)
    if until is not None:
        w.add("gap_from < {}", until)
    if after is not None:
        w.after("gap_from, id", "desc", after)
    return w


async def gaps(
    db: Any,
    channel_id: int,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
    offset: int = 0,
) -> list[asyncpg.Record]:
    """Coverage gaps of a channel overlapping [since, until), newest first."""
    w = gap_where(channel_id, since, until, after)
    sql = (
        f"SELECT id, channel, gap_from, gap_to, reason FROM coverage_gaps {w.sql()} "
        "ORDER BY gap_from DESC, id DESC"
        f"{w.limit_sql(limit, offset)}"
    )
    return list(await db.fetch(sql, *w.args))


async def gap_count(
    db: Any, channel_id: int, since: datetime | None, until: datetime | None, cap: int
) -> int:
    w = gap_where(channel_id, since, until)
    return int(await db.fetchval(w.count_capped_sql("coverage_gaps", cap), *w.args))


async def open_gaps(db: Any, channel_id: int) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT id, channel, gap_from, gap_to, reason FROM coverage_gaps "
            "WHERE channel_id = $1 AND gap_to IS NULL ORDER BY gap_from DESC LIMIT 20",
            channel_id,
        )
    )
