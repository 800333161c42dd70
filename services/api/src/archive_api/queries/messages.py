"""SQL of the message endpoints: pages by keyset, capped counts, windowed search, context.

Every query keeps the shapes the indexes serve (docs/schema.md): `(channel_id, sent_at, id)`,
`(user_id, sent_at, id)`, `(sent_at, id)`, the GIN index on
`(channel_id, to_tsvector('simple', text))` and the partial index of deleted messages.
Full-text search runs newest-first over growing time windows and stops once the page is full
(ADR 0009).
"""

# SQL here is assembled from constant fragments; every value travels as a $n parameter.
# ruff: noqa: S608

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import asyncpg

from archive_api.pagination import Order
from archive_api.sql import Where

Conn = Any
"""A connection, pooled connection or pool (anything with fetch/fetchrow/fetchval)."""

COLUMNS: Final = (
    "m.id, m.channel_id, m.sent_at, m.user_id, m.user_login, m.display_name, m.text, "
    "m.is_action, m.badges, m.badge_info, m.emotes, m.color, m.bits, m.first_msg, "
    "m.reply_parent_msg_id, m.reply_parent_user_login, m.source_channel_id, m.deleted_at"
)
TSV: Final = "to_tsvector('simple', m.text)"
"""Exactly the GIN index's expression: any other spelling would not use it."""

Deleted = Literal["exclude", "include", "only"]

FIRST_WINDOW_ROWS: Final = 2000
"""Search's first window holds about this many messages at the recent rate: few enough that
reading all of them newest first is cheap, enough for a common word's page."""
FIRST_WINDOW_BOUNDS: Final = (timedelta(minutes=1), timedelta(days=30))
MIN_GROWTH: Final = 2.0
MAX_GROWTH: Final = 64.0
ONE_US: Final = timedelta(microseconds=1)


@dataclasses.dataclass(frozen=True, slots=True)
class MessageFilter:
    """What a message list is restricted to (all optional)."""

    channel_id: int | None = None
    user_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    deleted: Deleted = "exclude"
    query: str | None = None
    """websearch_to_tsquery syntax: words, "a phrase", -not, or."""


Key = tuple[datetime, str]
"""(sent_at, id): the sort key of a message, and what a cursor holds."""


def where(f: MessageFilter, after: Key | None = None, order: Order = "desc") -> Where:
    w = Where()
    if f.channel_id is not None:
        w.add("m.channel_id = {}", f.channel_id)
    if f.user_id is not None:
        w.add("m.user_id = {}", f.user_id)
    if f.since is not None:
        w.add("m.sent_at >= {}", f.since)
    if f.until is not None:
        w.add("m.sent_at < {}", f.until)
    if f.deleted == "exclude":
        w.add("m.deleted_at IS NULL")
    elif f.deleted == "only":
        w.add("m.deleted_at IS NOT NULL")
    if f.query is not None:
        w.add(TSV + " @@ websearch_to_tsquery('simple', {})", f.query)
    if after is not None:
        w.after("m.sent_at, m.id", order, after)
    return w


def order_by(order: Order) -> str:
    direction = "DESC" if order == "desc" else "ASC"
    return f"ORDER BY m.sent_at {direction}, m.id {direction}"


def page_sql(
    f: MessageFilter, order: Order, after: Key | None, limit: int, offset: int
) -> tuple[str, list[Any]]:
    w = where(f, after, order)
    sql = f"SELECT {COLUMNS} FROM messages AS m {w.sql()} {order_by(order)}"
    return sql + w.limit_sql(limit, offset), w.args


async def page(
    db: Conn, f: MessageFilter, order: Order, after: Key | None, limit: int, offset: int = 0
) -> list[asyncpg.Record]:
    """Up to `limit` messages after the keyset `after` (or skipping `offset`)."""
    sql, args = page_sql(f, order, after, limit, offset)
    return list(await db.fetch(sql, *args))


async def count_capped(db: Conn, f: MessageFilter, cap: int) -> int:
    """How many messages match, counting at most cap + 1 (so it never scans far)."""
    w = where(f)
    return int(await db.fetchval(w.count_capped_sql("messages AS m", cap), *w.args))


async def search(
    db: Conn,
    f: MessageFilter,
    order: Order,
    after: Key | None,
    need: int,
    bounds: tuple[datetime, datetime],
    per_hour: float,
) -> tuple[list[asyncpg.Record], int]:
    """The first `need` matches in `order`, querying time windows outward from the newest (or
    oldest) end and stopping once `need` rows are found. Returns (rows, windows queried).

    The first window holds about FIRST_WINDOW_ROWS messages at `per_hour` (the recent rate of
    the channel searched, or of the archive); later ones grow with the match density seen so
    far (at least 2x, at most 64x), so a common word costs one small window and a rare one a
    handful of index look-ups, instead of sorting every match in the archive (ADR 0009). After
    an empty window the next ones find all their matches before sorting, so a word that appears
    nowhere costs GIN look-ups, not a scan of the archive.
    """
    lo, hi = bounds
    if f.since is not None:
        lo = max(lo, f.since)
    if f.until is not None:
        hi = min(hi, f.until)
    if after is not None:
        if order == "desc":
            hi = min(hi, after[0] + ONE_US)
        else:
            lo = max(lo, after[0])
    rows: list[asyncpg.Record] = []
    windows = 0
    span = first_window(per_hour)
    direction = order_by(order)
    while lo < hi and len(rows) < need:
        if order == "desc":
            start, end = max(lo, hi - span), hi
        else:
            start, end = lo, min(hi, lo + span)
        w = where(f, after, order)
        w.add("m.sent_at >= {}", start)
        w.add("m.sent_at < {}", end)
        want = need - len(rows)
        if windows == 0 or rows:
            sql = f"SELECT {COLUMNS} FROM messages AS m {w.sql()} {direction} LIMIT {w.arg(want)}"
        else:
            # Nothing matched yet: the word may be absent. Under a LIMIT, PostgreSQL assumes an
            # unknown word is as frequent as its rarest common one and reads the window newest
            # first, checking every row: 11 s per window for a word that appears nowhere in the
            # 10 M bench. Materialized, the window costs what its matches cost (GIN look-ups).
            sql = (
                f"WITH found AS MATERIALIZED (SELECT {COLUMNS} FROM messages AS m {w.sql()}) "
                f"SELECT * FROM found AS m {direction} LIMIT {w.arg(want)}"
            )
        got = await db.fetch(sql, *w.args)
        windows += 1
        rows.extend(got)
        if order == "desc":
            hi = start
        else:
            lo = end
        covered = (end - start).total_seconds()
        if got and covered > 0:
            missing = need - len(rows)
            estimate = timedelta(seconds=covered * missing / len(got) * 1.5)
            span = min(max(estimate, span * MIN_GROWTH), span * MAX_GROWTH)
        else:
            span = span * 8
    return rows, windows


def first_window(per_hour: float) -> timedelta:
    """The span holding about FIRST_WINDOW_ROWS messages at `per_hour`, within bounds."""
    low, high = FIRST_WINDOW_BOUNDS
    if per_hour <= 0:
        return high
    return min(max(timedelta(hours=FIRST_WINDOW_ROWS / per_hour), low), high)


async def hourly_rate(db: Conn, channel_id: int | None, newest: datetime) -> float:
    """Messages per hour over the day before `newest`, in one channel or all (rollups)."""
    w = Where()
    w.add("hour >= {}", newest - timedelta(days=1))
    if channel_id is not None:
        w.add("channel_id = {}", channel_id)
    total = await db.fetchval(f"SELECT sum(messages) FROM channel_hourly_stats {w.sql()}", *w.args)
    return float(total or 0) / 24


async def data_bounds(db: Conn) -> tuple[datetime, datetime] | None:
    """(oldest sent_at, newest sent_at + 1 us) of the archive, or None when it is empty."""
    row = await db.fetchrow("SELECT min(sent_at) AS lo, max(sent_at) AS hi FROM messages")
    if row is None or row["lo"] is None:
        return None
    return row["lo"], row["hi"] + ONE_US


async def lexemes(db: Conn, query: str) -> list[str]:
    """The words of a websearch query as PostgreSQL reads them (negated ones left out)."""
    text = await db.fetchval("SELECT websearch_to_tsquery('simple', $1)::text", query)
    return parse_tsquery(text or "")


_LEXEME = re.compile(r"(!?)'((?:[^']|'')*)'")


def parse_tsquery(text: str) -> list[str]:
    """`'foo' & !'bar' <-> 'it''s'` -> ['foo', "it's"]."""
    found = []
    for negated, lexeme in _LEXEME.findall(text):
        if not negated:
            word = lexeme.replace("''", "'")
            if word and word not in found:
                found.append(word)
    return found


def highlighter(words: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern matching any of `words` as whole words, case-insensitively."""
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)


def highlight(text: str, pattern: re.Pattern[str] | None) -> list[tuple[int, int]]:
    """Code point ranges [start, end) of the matched words in `text`."""
    if pattern is None:
        return []
    return [match.span() for match in pattern.finditer(text)]


async def by_id(db: Conn, message_id: str) -> asyncpg.Record | None:
    """One message by id (probes each month's primary key)."""
    row: asyncpg.Record | None = await db.fetchrow(
        f"SELECT {COLUMNS} FROM messages AS m WHERE m.id = $1 LIMIT 1", message_id
    )
    return row


async def around(
    db: Conn, channel_id: int, key: Key, before: int, after: int, deleted: Deleted
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """Up to `before` messages just before `key` in the channel and `after` just after it,
    both oldest first."""
    f = MessageFilter(channel_id=channel_id, deleted=deleted)
    earlier = await page(db, f, "desc", key, before) if before else []
    later = await page(db, f, "asc", key, after) if after else []
    return list(reversed(earlier)), later


def export_sql(
    f: MessageFilter, order: Order, after: Key | None, limit: int | None
) -> tuple[str, list[Any]]:
    """The query an export streams through a server-side cursor."""
    w = where(f, after, order)
    sql = f"SELECT {COLUMNS} FROM messages AS m {w.sql()} {order_by(order)}"
    if limit is not None:
        sql += f" LIMIT {w.arg(limit)}"
    return sql, w.args
