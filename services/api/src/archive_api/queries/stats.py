"""SQL of the aggregates: everything from the rollups (channel_hourly_stats, user_channel_stats),
never a scan of messages, except the exact active-user count of short ranges."""

# SQL here is assembled from constant fragments; every value travels as a $n parameter.
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

import asyncpg

Interval = Literal["hour", "day"]

ACTIVE_USERS_EXACT_MAX: Final = 50_000
"""Ranges with at most this many messages get an exact distinct-user count from messages."""

_SUMS = (
    "coalesce(sum(h.messages), 0)::bigint AS messages, "
    "coalesce(sum(h.usernotices), 0)::bigint AS usernotices, "
    "coalesce(sum(h.mod_actions), 0)::bigint AS mod_actions, "
    "coalesce(sum(h.deletions), 0)::bigint AS deletions, "
    "coalesce(sum(h.bans), 0)::bigint AS bans, "
    "coalesce(sum(h.timeouts), 0)::bigint AS timeouts"
)


async def channel_totals(db: Any) -> list[asyncpg.Record]:
    """All-time sums per channel (one pass over the hourly rollup)."""
    return list(
        await db.fetch(
            f"SELECT h.channel_id, {_SUMS} FROM channel_hourly_stats AS h GROUP BY h.channel_id"
        )
    )


async def range_totals(
    db: Any, channel_id: int | None, since: datetime, until: datetime
) -> asyncpg.Record:
    """Sums over [since, until) of one channel (primary key range) or of all (per channel)."""
    if channel_id is not None:
        row = await db.fetchrow(
            f"SELECT {_SUMS} FROM channel_hourly_stats AS h "
            "WHERE h.channel_id = $1 AND h.hour >= date_trunc('hour', $2::timestamptz, 'UTC') "
            "AND h.hour < $3",
            channel_id,
            since,
            until,
        )
    else:
        row = await db.fetchrow(
            f"SELECT {_SUMS} FROM channels AS c CROSS JOIN LATERAL ("
            "  SELECT * FROM channel_hourly_stats AS x WHERE x.channel_id = c.id"
            "  AND x.hour >= date_trunc('hour', $1::timestamptz, 'UTC') AND x.hour < $2) AS h",
            since,
            until,
        )
    assert row is not None
    record: asyncpg.Record = row
    return record


async def series(
    db: Any, channel_id: int | None, since: datetime, until: datetime, interval: Interval
) -> list[asyncpg.Record]:
    """Per hour or day buckets over [since, until), every bucket present (zeros included)."""
    source = (
        "SELECT * FROM channel_hourly_stats WHERE channel_id = $4 "
        "AND hour >= date_trunc('hour', $1::timestamptz, 'UTC') AND hour < $2"
        if channel_id is not None
        else "SELECT x.* FROM channels AS c CROSS JOIN LATERAL (SELECT * FROM "
        "channel_hourly_stats AS x WHERE x.channel_id = c.id "
        "AND x.hour >= date_trunc('hour', $1::timestamptz, 'UTC') AND x.hour < $2) AS x"
    )
    args: list[Any] = [since, until, interval]
    if channel_id is not None:
        args.append(channel_id)
    sql = f"""
        WITH h AS ({source}),
        b AS (
            SELECT date_trunc($3, h.hour, 'UTC') AS start, sum(h.messages) AS messages,
                   sum(h.usernotices) AS usernotices, sum(h.mod_actions) AS mod_actions,
                   sum(h.deletions) AS deletions, sum(h.bans) AS bans, sum(h.timeouts) AS timeouts
            FROM h GROUP BY 1
        )
        SELECT g.start, coalesce(b.messages, 0)::bigint AS messages,
               coalesce(b.usernotices, 0)::bigint AS usernotices,
               coalesce(b.mod_actions, 0)::bigint AS mod_actions,
               coalesce(b.deletions, 0)::bigint AS deletions,
               coalesce(b.bans, 0)::bigint AS bans, coalesce(b.timeouts, 0)::bigint AS timeouts
        FROM generate_series(date_trunc($3, $1::timestamptz, 'UTC'),
                             $2::timestamptz - interval '1 microsecond',
                             ('1 ' || $3)::interval) AS g(start)
        LEFT JOIN b ON b.start = g.start
        ORDER BY g.start
    """
    return list(await db.fetch(sql, *args))


async def active_users(
    db: Any, channel_id: int, since: datetime, until: datetime, messages: int
) -> tuple[int, bool]:
    """Distinct chatters of a channel in [since, until): exact from messages when the range
    holds few enough, else those whose activity span overlaps it (an upper bound)."""
    if messages <= ACTIVE_USERS_EXACT_MAX:
        n = await db.fetchval(
            "SELECT count(DISTINCT user_id) FROM messages "
            "WHERE channel_id = $1 AND sent_at >= $2 AND sent_at < $3",
            channel_id,
            since,
            until,
        )
        return int(n), True
    n = await db.fetchval(
        "SELECT count(*) FROM user_channel_stats "
        "WHERE channel_id = $1 AND last_seen_at >= $2 AND first_seen_at < $3",
        channel_id,
        since,
        until,
    )
    return int(n), False


async def chatters(db: Any, channel_id: int) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM user_channel_stats WHERE channel_id = $1", channel_id
        )
    )


async def overview_counts(db: Any) -> asyncpg.Record:
    row = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM channels) AS channels_total,
               (SELECT count(*) FROM channels WHERE is_active) AS channels_active,
               (SELECT count(*) FROM users) AS users_tracked,
               (SELECT count(*) FROM coverage_gaps WHERE gap_to IS NULL) AS open_gaps,
               (SELECT max(sent_at) FROM messages) AS newest
        """
    )
    assert row is not None
    record: asyncpg.Record = row
    return record


async def top_recent_users(db: Any, sample: int, limit: int) -> list[asyncpg.Record]:
    """Who wrote the most of the newest `sample` messages, all channels together: "who is chatting
    most right now", one backward scan of the time index whatever the archive's size (an exact
    top over a day would read the whole day)."""
    return list(
        await db.fetch(
            "SELECT r.user_id, max(r.user_login) AS login, count(*) AS messages FROM ("
            "  SELECT user_id, user_login FROM messages ORDER BY sent_at DESC, id DESC LIMIT $1"
            ") AS r WHERE r.user_id IS NOT NULL "
            "GROUP BY r.user_id ORDER BY messages DESC, login LIMIT $2",
            sample,
            limit,
        )
    )


async def top_channels(
    db: Any, since: datetime, until: datetime, limit: int
) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT c.login, t.messages FROM channels AS c CROSS JOIN LATERAL ("
            "  SELECT coalesce(sum(messages), 0)::bigint AS messages FROM channel_hourly_stats"
            "  WHERE channel_id = c.id AND hour >= date_trunc('hour', $1::timestamptz, 'UTC')"
            "  AND hour < $2) AS t "
            "WHERE t.messages > 0 ORDER BY t.messages DESC, c.login LIMIT $3",
            since,
            until,
            limit,
        )
    )
