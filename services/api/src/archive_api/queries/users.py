"""SQL of the user endpoints: lists by login prefix or by channel, profiles, names, stats."""

# SQL here is assembled from constant fragments; every value travels as a $n parameter.
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from archive_api.sql import Where

USER_COLUMNS = "u.id, u.login, u.display_name, u.first_seen_at, u.last_seen_at, u.message_count"


def like_prefix(prefix: str) -> str:
    """A LIKE pattern for logins starting with `prefix` (`_` is a wildcard in LIKE)."""
    return prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"


def list_where(prefix: str | None, channel_id: int | None) -> Where:
    w = Where()
    if channel_id is not None:
        w.add("s.channel_id = {}", channel_id)
    if prefix:
        w.add("u.login LIKE {}", like_prefix(prefix))
    return w


async def page_by_login(
    db: Any, prefix: str | None, after: tuple[str, str] | None, limit: int, offset: int
) -> list[asyncpg.Record]:
    """Users in login order (index users_login_idx), optionally by login prefix."""
    w = list_where(prefix, None)
    if after is not None:
        w.add("(u.login, u.id) > ({}, {})", *after)
    sql = (
        f"SELECT {USER_COLUMNS} FROM users AS u {w.sql()} ORDER BY u.login, u.id "
        f"{w.limit_sql(limit, offset)}"
    )
    return list(await db.fetch(sql, *w.args))


async def page_by_channel(
    db: Any,
    channel_id: int,
    prefix: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """A channel's chatters, most recently active there first (user_channel_stats)."""
    w = list_where(prefix, channel_id)
    if after is not None:
        w.add("(s.last_seen_at, s.user_id) < ({}, {})", *after)
    sql = (
        f"SELECT {USER_COLUMNS}, s.messages AS channel_messages, "
        "s.last_seen_at AS channel_last_seen "
        f"FROM user_channel_stats AS s JOIN users AS u ON u.id = s.user_id {w.sql()} "
        "ORDER BY s.last_seen_at DESC, s.user_id DESC"
        f"{w.limit_sql(limit, offset)}"
    )
    return list(await db.fetch(sql, *w.args))


async def count_capped(db: Any, prefix: str | None, channel_id: int | None, cap: int) -> int:
    w = list_where(prefix, channel_id)
    if channel_id is not None:
        join = (
            "user_channel_stats AS s JOIN users AS u ON u.id = s.user_id"
            if prefix
            else ("user_channel_stats AS s")
        )
    else:
        join = "users AS u"
    return int(await db.fetchval(w.count_capped_sql(join, cap), *w.args))


async def channels_of(db: Any, user_id: str, limit: int) -> list[asyncpg.Record]:
    """The channels a user wrote in, most messages first."""
    return list(
        await db.fetch(
            "SELECT channel_id, messages, first_seen_at, last_seen_at FROM user_channel_stats "
            "WHERE user_id = $1 ORDER BY messages DESC, channel_id LIMIT $2",
            user_id,
            limit,
        )
    )


async def channel_count(db: Any, user_id: str) -> int:
    return int(
        await db.fetchval("SELECT count(*) FROM user_channel_stats WHERE user_id = $1", user_id)
    )


async def names(db: Any, user_id: str) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT login, first_seen_at, last_seen_at FROM user_names WHERE user_id = $1 "
            "ORDER BY last_seen_at DESC, login",
            user_id,
        )
    )


async def moderation_counts(db: Any, user_id: str, logins: list[str]) -> asyncpg.Record:
    """Bans, timeouts, unbans against the user id, and deletions of their messages (CLEARMSG
    names the login only)."""
    row = await db.fetchrow(
        """
        SELECT
          count(*) FILTER (WHERE action = 'ban') AS bans,
          count(*) FILTER (WHERE action = 'timeout') AS timeouts,
          count(*) FILTER (WHERE action = 'unban') AS unbans,
          max(created_at) FILTER (WHERE action = 'ban') AS last_ban_at,
          max(created_at) FILTER (WHERE action = 'timeout') AS last_timeout_at,
          coalesce(sum(duration_s) FILTER (WHERE action = 'timeout'), 0) AS timeout_seconds,
          (SELECT count(*) FROM mod_actions
            WHERE target_user_login = ANY($2::text[]) AND action = 'delete') AS deletions
        FROM mod_actions WHERE target_user_id = $1
        """,
        user_id,
        logins,
    )
    assert row is not None
    record: asyncpg.Record = row
    return record
