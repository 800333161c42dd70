"""HOW a batch is stored: COPY into temporary staging tables, then one set-based statement.

Per batch, in one transaction: COPY of each table's rows into `writer_stage_*` (temporary,
emptied at commit), then one statement whose CTEs insert messages, user notices and moderation
actions with ON CONFLICT DO NOTHING, apply deletions in both orders (queueing in
deletions_pending those whose message is in no committed row, for the sweep), and update the
rollups (users, user_names, channel_hourly_stats, user_channel_stats, channels.last_seen_at) from
the RETURNING rows only, in primary-key order.
Why: docs/adr/0008-copy-into-staging-then-insert.md.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
import structlog
from nats.aio.msg import Msg

from archive_writer.batcher import Batch, BatchQueue
from archive_writer.dead_letter import DeadLetter, Reason, Settler, backoff_delay, store_isolating
from archive_writer.errors import RowRejectedError, TransientStoreError
from archive_writer.metrics import WriterMetrics
from archive_writer.rows import (
    KIND_TABLES,
    MESSAGE_COLUMNS,
    MOD_ACTION_COLUMNS,
    USERNOTICE_COLUMNS,
    Row,
)
from twitch_archive.db import init_connection
from twitch_archive.events import CoverageGap

log = structlog.get_logger("archive_writer.store")

STAGING_DDL: Final = """
CREATE TEMPORARY TABLE IF NOT EXISTS writer_stage_messages (
    id text COLLATE "C" NOT NULL, ts bigint NOT NULL, channel_id integer NOT NULL,
    user_id text COLLATE "C", user_login text COLLATE "C", display_name text, text text NOT NULL,
    is_action boolean NOT NULL, badges jsonb NOT NULL, badge_info jsonb NOT NULL,
    emotes jsonb NOT NULL, color text, bits integer, first_msg boolean NOT NULL,
    reply_parent_msg_id text COLLATE "C", reply_parent_user_login text COLLATE "C",
    source_channel_id text COLLATE "C"
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS writer_stage_usernotices (
    id text COLLATE "C" NOT NULL, ts bigint NOT NULL, channel_id integer NOT NULL,
    notice_type text NOT NULL, message_id text COLLATE "C", user_id text COLLATE "C",
    user_login text COLLATE "C", display_name text, text text, system_msg text,
    params jsonb NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS writer_stage_mod_actions (
    id text COLLATE "C" NOT NULL, ts bigint NOT NULL, channel_id integer NOT NULL,
    action text NOT NULL, target_user_id text COLLATE "C", target_user_login text COLLATE "C",
    duration_s integer, target_message_id text COLLATE "C", message_text text,
    moderator_id text COLLATE "C", moderator_login text COLLATE "C", reason text
) ON COMMIT DELETE ROWS;
"""

# Deletions a batch queued (deletions_pending, migration 0003) whose message has appeared since:
# each is claimed by one sweep only (SKIP LOCKED: a sweep never waits on a batch or on another
# replica's sweep), applied, and dropped once its message exists or it is ten minutes old.
SWEEP_SQL: Final = """
WITH
claimed AS (
    SELECT message_id, deleted_at, queued_at FROM deletions_pending
    ORDER BY message_id
    FOR UPDATE SKIP LOCKED
),
swept AS (
    UPDATE messages AS m SET deleted_at = c.deleted_at
    FROM claimed AS c
    WHERE m.id = c.message_id AND m.deleted_at IS NULL
    RETURNING m.id
),
settled AS (
    DELETE FROM deletions_pending AS p
    USING claimed AS c
    WHERE p.message_id = c.message_id
      AND (c.queued_at < now() - interval '10 minutes'
           OR EXISTS (SELECT 1 FROM messages AS m WHERE m.id = c.message_id))
    RETURNING 1
)
SELECT (SELECT count(*) FROM swept) AS applied,
       (SELECT count(*) FROM claimed) - (SELECT count(*) FROM settled) AS waiting
"""

# Everything after the COPYs, in one statement: its CTEs all see the database as it was when the
# statement began, and each other only through RETURNING. So rollups count exactly the rows this
# statement inserted, and `del` (stored messages a staged CLEARMSG deletes) never touches the
# messages `msg` inserts (those get deleted_at from the join instead). A CLEARMSG whose message
# is in no committed row may meet it in a batch committing beside this one, where neither sees
# the other: it is queued (`queued`), and the writer's sweep applies it (SWEEP_SQL, ADR 0008).
WRITE_SQL: Final = """
WITH
staged_deletes AS (
    SELECT target_message_id AS id,
           min(timestamptz 'epoch' + ts * interval '1 millisecond') AS at
    FROM writer_stage_mod_actions
    WHERE action = 'delete' AND target_message_id IS NOT NULL
    GROUP BY target_message_id
),
ma AS (
    INSERT INTO mod_actions (id, created_at, channel_id, action, target_user_id,
        target_user_login, duration_s, target_message_id, message_text, moderator_id,
        moderator_login, reason)
    SELECT id, timestamptz 'epoch' + ts * interval '1 millisecond', channel_id, action,
        target_user_id, target_user_login, duration_s, target_message_id, message_text,
        moderator_id, moderator_login, reason
    FROM writer_stage_mod_actions
    ON CONFLICT (id) DO NOTHING
    RETURNING channel_id, created_at, action
),
del AS (
    UPDATE messages AS m SET deleted_at = d.at
    FROM staged_deletes AS d
    WHERE m.id = d.id AND m.deleted_at IS NULL
    RETURNING m.id
),
msg AS (
    INSERT INTO messages (sent_at, deleted_at, channel_id, bits, is_action, first_msg, id,
        user_id, user_login, display_name, text, color, badges, badge_info, emotes,
        reply_parent_msg_id, reply_parent_user_login, source_channel_id)
    SELECT timestamptz 'epoch' + s.ts * interval '1 millisecond',
        -- Filter on action outside the index condition: one plain probe of the small partial
        -- index per row (a BitmapAnd with mod_actions_action_idx costs three times more).
        COALESCE(d.at, (SELECT min(a.created_at) FILTER (WHERE a.action = 'delete')
                        FROM mod_actions AS a WHERE a.target_message_id = s.id)),
        s.channel_id, s.bits, s.is_action, s.first_msg, s.id, s.user_id, s.user_login,
        s.display_name, s.text, s.color, s.badges, s.badge_info, s.emotes,
        s.reply_parent_msg_id, s.reply_parent_user_login, s.source_channel_id
    FROM writer_stage_messages AS s
    LEFT JOIN staged_deletes AS d ON d.id = s.id
    ON CONFLICT DO NOTHING
    RETURNING channel_id, sent_at, user_id, user_login, display_name
),
un AS (
    INSERT INTO usernotices (id, sent_at, channel_id, notice_type, message_id, user_id,
        user_login, display_name, text, system_msg, params)
    SELECT id, timestamptz 'epoch' + ts * interval '1 millisecond', channel_id, notice_type,
        message_id, user_id, user_login, display_name, text, system_msg, params
    FROM writer_stage_usernotices
    ON CONFLICT (id) DO NOTHING
    RETURNING channel_id, sent_at, user_id, user_login, display_name
),
hourly AS (
    INSERT INTO channel_hourly_stats AS h (channel_id, hour, messages, usernotices, mod_actions,
        deletions, bans, timeouts)
    SELECT channel_id, hour, sum(m), sum(u), sum(a), sum(d), sum(b), sum(t)
    FROM (
        SELECT channel_id, date_trunc('hour', sent_at, 'UTC') AS hour, count(*) AS m, 0 AS u,
               0 AS a, 0 AS d, 0 AS b, 0 AS t
        FROM msg GROUP BY 1, 2
        UNION ALL
        SELECT channel_id, date_trunc('hour', sent_at, 'UTC'), 0, count(*), 0, 0, 0, 0
        FROM un GROUP BY 1, 2
        UNION ALL
        SELECT channel_id, date_trunc('hour', created_at, 'UTC'), 0, 0, count(*),
               count(*) FILTER (WHERE action = 'delete'), count(*) FILTER (WHERE action = 'ban'),
               count(*) FILTER (WHERE action = 'timeout')
        FROM ma GROUP BY 1, 2
    ) AS x
    GROUP BY channel_id, hour
    ORDER BY channel_id, hour
    ON CONFLICT (channel_id, hour) DO UPDATE SET
        messages = h.messages + EXCLUDED.messages,
        usernotices = h.usernotices + EXCLUDED.usernotices,
        mod_actions = h.mod_actions + EXCLUDED.mod_actions,
        deletions = h.deletions + EXCLUDED.deletions,
        bans = h.bans + EXCLUDED.bans,
        timeouts = h.timeouts + EXCLUDED.timeouts
    RETURNING 1
),
ucs AS (
    INSERT INTO user_channel_stats AS c (user_id, channel_id, messages, first_seen_at,
        last_seen_at)
    SELECT user_id, channel_id, count(*), min(sent_at), max(sent_at)
    FROM msg WHERE user_id IS NOT NULL
    GROUP BY user_id, channel_id
    ORDER BY user_id, channel_id
    ON CONFLICT (user_id, channel_id) DO UPDATE SET
        messages = c.messages + EXCLUDED.messages,
        first_seen_at = LEAST(c.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(c.last_seen_at, EXCLUDED.last_seen_at)
    RETURNING 1
),
authored AS (
    SELECT user_id, user_login, display_name, sent_at, 1 AS message
    FROM msg WHERE user_id IS NOT NULL AND user_login IS NOT NULL
    UNION ALL
    SELECT user_id, user_login, display_name, sent_at, 0
    FROM un WHERE user_id IS NOT NULL AND user_login IS NOT NULL
),
latest AS (
    SELECT DISTINCT ON (user_id) user_id, user_login AS login, display_name
    FROM authored ORDER BY user_id, sent_at DESC
),
totals AS (
    SELECT user_id, min(sent_at) AS first_at, max(sent_at) AS last_at,
           sum(message) AS messages, min(user_login) <> max(user_login) AS several
    FROM authored GROUP BY user_id
),
renamed AS (
    SELECT t.user_id, u.login AS old_login,
           COALESCE(n.first_seen_at, u.first_seen_at) AS old_first_at,
           u.last_seen_at AS old_last_at
    FROM totals AS t
    JOIN latest AS l ON l.user_id = t.user_id
    LEFT JOIN users AS u ON u.id = t.user_id
    LEFT JOIN user_names AS n ON n.user_id = u.id AND n.login = u.login
    WHERE t.several OR u.login <> l.login
),
names AS (
    INSERT INTO user_names AS n (user_id, login, first_seen_at, last_seen_at)
    SELECT user_id, login, min(first_at), max(last_at)
    FROM (
        SELECT a.user_id, a.user_login AS login, a.sent_at AS first_at, a.sent_at AS last_at
        FROM authored AS a WHERE a.user_id IN (SELECT user_id FROM renamed)
        UNION ALL
        SELECT user_id, old_login, old_first_at, old_last_at
        FROM renamed WHERE old_login IS NOT NULL
    ) AS x
    GROUP BY user_id, login
    ORDER BY user_id, login
    ON CONFLICT (user_id, login) DO UPDATE SET
        first_seen_at = LEAST(n.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(n.last_seen_at, EXCLUDED.last_seen_at)
    RETURNING 1
),
usr AS (
    INSERT INTO users AS u (id, login, display_name, first_seen_at, last_seen_at, message_count)
    SELECT t.user_id, l.login, l.display_name, t.first_at, t.last_at, t.messages
    FROM totals AS t JOIN latest AS l ON l.user_id = t.user_id
    ORDER BY t.user_id
    ON CONFLICT (id) DO UPDATE SET
        login = CASE WHEN EXCLUDED.last_seen_at >= u.last_seen_at
                     THEN EXCLUDED.login ELSE u.login END,
        display_name = CASE WHEN EXCLUDED.last_seen_at >= u.last_seen_at
                            THEN COALESCE(EXCLUDED.display_name, u.display_name)
                            ELSE u.display_name END,
        first_seen_at = LEAST(u.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(u.last_seen_at, EXCLUDED.last_seen_at),
        message_count = u.message_count + EXCLUDED.message_count
    RETURNING 1
),
seen AS (
    SELECT channel_id, min(t) AS first_at, max(t) AS last_at
    FROM (SELECT channel_id, sent_at AS t FROM msg
          UNION ALL SELECT channel_id, sent_at FROM un) AS y
    GROUP BY channel_id
),
chan AS (
    UPDATE channels AS c SET
        first_seen_at = LEAST(COALESCE(c.first_seen_at, s.first_at), s.first_at),
        last_seen_at = GREATEST(COALESCE(c.last_seen_at, s.last_at), s.last_at)
    FROM seen AS s
    WHERE c.id = s.channel_id
      AND (c.last_seen_at IS NULL OR c.last_seen_at < s.last_at - interval '1 minute'
           OR c.first_seen_at > s.first_at)
    RETURNING 1
),
queued AS (
    INSERT INTO deletions_pending AS p (message_id, deleted_at)
    SELECT d.id, d.at FROM staged_deletes AS d
    WHERE NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.id = d.id)
      AND d.id NOT IN (SELECT s.id FROM writer_stage_messages AS s)
    ORDER BY d.id
    ON CONFLICT (message_id) DO UPDATE SET deleted_at = LEAST(p.deleted_at, EXCLUDED.deleted_at)
    RETURNING 1
)
SELECT (SELECT count(*) FROM msg) AS messages,
       (SELECT count(*) FROM un) AS usernotices,
       (SELECT count(*) FROM ma) AS mod_actions,
       (SELECT count(*) FROM del) AS deletions,
       (SELECT count(*) FROM queued) AS queued
"""


@dataclasses.dataclass(slots=True)
class WriteResult:
    """What one committed batch did."""

    staged: tuple[int, int, int]
    """Rows handed to PostgreSQL, per table (KIND_TABLES order)."""
    inserted: tuple[int, int, int]
    """Rows really inserted, per table; the rest were duplicates."""
    deletions_applied: int
    """Stored messages a CLEARMSG of this batch marked deleted."""
    deletions_queued: int = 0
    """CLEARMSGs of this batch whose message was in no committed row: the sweep's work."""

    @property
    def duplicates(self) -> tuple[int, int, int]:
        s, i = self.staged, self.inserted
        return (s[0] - i[0], s[1] - i[1], s[2] - i[2])


_ROW_SQLSTATE_CLASSES: Final = frozenset({"22", "23", "54"})
"""Data exceptions, integrity violations, program limits: one row is at fault, not the server."""


def classify(exc: BaseException) -> RowRejectedError | TransientStoreError:
    """Map an error raised while storing to what the writer does about it."""
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        if state[:2] in _ROW_SQLSTATE_CLASSES:
            return RowRejectedError(f"{state} {exc}")
        if state in ("40001", "40P01"):
            return TransientStoreError("conflict")
        if state[:2] in ("08", "57", "53") or isinstance(exc, asyncpg.PostgresConnectionError):
            return TransientStoreError("connection")
        return TransientStoreError("server")
    if isinstance(exc, ValueError | TypeError | OverflowError):
        # Client-side encoding of a COPY row (asyncpg's DataError is a ValueError; a lone
        # surrogate is a UnicodeEncodeError): the value at fault is in that row.
        return RowRejectedError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):
        return TransientStoreError("timeout")
    return TransientStoreError("connection")


SWEEP_INTERVAL_S: Final = 1.0
"""How often queued deletions are retried while some wait (the stream may be quiet)."""

SANE_FROM_MS: Final = 946_684_800_000
"""2000-01-01: archive_ensure_message_partition leaves earlier times in messages_default."""
SANE_AHEAD_MS: Final = 366 * 24 * 3600 * 1000
"""...and times more than a year ahead."""


def month_start(ts_ms: int) -> datetime:
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def months_of(timestamps: Iterable[int], now: int | None = None) -> set[datetime]:
    """UTC month starts of event times (ms) that get a partition (junk times do not)."""
    now = now_ms() if now is None else now
    sane = [ts for ts in timestamps if SANE_FROM_MS <= ts < now + SANE_AHEAD_MS]
    if not sane:
        return set()
    first, last = month_start(min(sane)), month_start(max(sane))
    span = (last.year - first.year) * 12 + last.month - first.month
    if span <= 3:
        return {add_months(first, k) for k in range(span + 1)}
    return {month_start(ts) for ts in sane}


GAP_SQL: Final = """
INSERT INTO coverage_gaps (id, channel_id, channel, gap_from, gap_to, reason)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING
"""


class CoverageGaps:
    """Coverage gaps reported by ingestors: rare, so each is stored at once, idempotent by id."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self._pool = pool

    async def record(self, event: CoverageGap, channel_id: int) -> None:
        """Store one gap; raises RowRejectedError or TransientStoreError."""
        try:
            await self._pool.execute(
                GAP_SQL,
                event.id,
                channel_id,
                event.channel,
                datetime.fromtimestamp(event.gap_from / 1000, UTC),
                datetime.fromtimestamp(max(event.gap_to, event.gap_from) / 1000, UTC),
                event.reason,
            )
        except Exception as exc:  # sorted into retry or reject right here
            raise classify(exc) from exc


class Channels:
    """Channel ids (channels.id) by (login, room id), upserted on first sight and cached."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self._pool = pool
        self._ids: dict[tuple[str, str | None], int] = {}

    def get(self, login: str, room_id: str | None) -> int | None:
        return self._ids.get((login, room_id))

    async def resolve(self, login: str, room_id: str | None) -> int:
        """Upsert a channel by room id and login in its own short transaction; its id."""
        for _ in range(3):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    channel_id = await _upsert_channel(conn, login, room_id)
            except asyncpg.UniqueViolationError:
                continue  # another replica inserted it first: look again
            except Exception as exc:  # sorted into retry or reject right here
                raise classify(exc) from exc
            self._ids[(login, room_id)] = channel_id
            return channel_id
        raise TransientStoreError("conflict")


async def _upsert_channel(
    conn: asyncpg.pool.PoolConnectionProxy[Any] | asyncpg.Connection[Any],
    login: str,
    room_id: str | None,
) -> int:
    if room_id is None:
        found = await conn.fetchval("SELECT id FROM channels WHERE login = $1", login)
        if found is not None:
            return int(found)
        return int(
            await conn.fetchval("INSERT INTO channels (login) VALUES ($1) RETURNING id", login)
        )
    by_room = await conn.fetchrow(
        "SELECT id, login FROM channels WHERE twitch_id = $1 FOR UPDATE", room_id
    )
    if by_room is not None:
        if by_room["login"] != login:
            holder = await conn.fetchval("SELECT id FROM channels WHERE login = $1", login)
            if holder is None:
                await conn.execute(
                    "UPDATE channels SET login = $2 WHERE id = $1", by_room["id"], login
                )
                log.info("channel_renamed", old=by_room["login"], new=login, room_id=room_id)
            else:
                # Another row (added by the api under the new name) holds the login: keep both,
                # events go to the room's row; an operator merges them.
                log.warning("channel_login_taken", login=login, room_id=room_id)
        return int(by_room["id"])
    by_login = await conn.fetchrow(
        "SELECT id, twitch_id FROM channels WHERE login = $1 FOR UPDATE", login
    )
    if by_login is not None and by_login["twitch_id"] is None:
        await conn.execute(
            "UPDATE channels SET twitch_id = $2 WHERE id = $1", by_login["id"], room_id
        )
        return int(by_login["id"])
    if by_login is not None:
        # The login now belongs to another room: its old owner was renamed away. Free the login
        # (the old row keeps its history under `<login>~<room id>` until its room shows up).
        await conn.execute(
            "UPDATE channels SET login = login || '~' || twitch_id WHERE id = $1", by_login["id"]
        )
        log.info(
            "channel_login_moved", login=login, old_room=by_login["twitch_id"], room_id=room_id
        )
    return int(
        await conn.fetchval(
            "INSERT INTO channels (login, twitch_id) VALUES ($1, $2) RETURNING id", login, room_id
        )
    )


class Store:
    """Stores batches on one dedicated connection (its temporary staging tables live there)."""

    def __init__(
        self,
        database_url: str,
        pool: asyncpg.Pool[asyncpg.Record],
        *,
        timeout_s: float,
        application_name: str = "archive-writer",
        channels: Channels | None = None,
        months: set[datetime] | None = None,
    ) -> None:
        self._url = database_url
        self._pool = pool
        self._timeout = timeout_s
        self._application_name = application_name
        self._conn: asyncpg.Connection[Any] | None = None
        self.months: set[datetime] = months if months is not None else set()
        """Months whose partition exists (shared by the stores of one writer)."""
        self.channels = channels if channels is not None else Channels(pool)

    async def close(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            try:
                await asyncio.wait_for(self._conn.close(), 2.0)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self._conn.terminate()
        self._conn = None

    async def _connection(self) -> asyncpg.Connection[Any]:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        conn: asyncpg.Connection[Any] = await asyncpg.connect(
            self._url,
            timeout=10,
            command_timeout=None,
            server_settings={"application_name": self._application_name},
        )
        try:
            await init_connection(conn)
            await conn.execute(STAGING_DDL)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        return conn

    async def ensure_partitions(self, months: Iterable[datetime]) -> None:
        """Create month partitions not seen yet, each in its own short transaction."""
        for month in sorted(set(months) - self.months):
            await self._pool.execute("SELECT archive_ensure_message_partition($1)", month)
            self.months.add(month)

    async def write(
        self,
        messages: Sequence[Row],
        usernotices: Sequence[Row],
        mod_actions: Sequence[Row],
    ) -> WriteResult:
        """Store one batch in one transaction; raises RowRejectedError or TransientStoreError."""
        try:
            if messages:
                await self.ensure_partitions(months_of([row[1] for row in messages]))
            async with asyncio.timeout(self._timeout):
                return await self._write(messages, usernotices, mod_actions)
        except (RowRejectedError, TransientStoreError):
            raise
        except Exception as exc:  # sorted into retry or reject right here
            reason = classify(exc)
            if isinstance(reason, TransientStoreError) and self._conn is not None:
                # Broken, or stuck mid-protocol after a timeout: start afresh next attempt.
                self._conn.terminate()
                self._conn = None
            raise reason from exc

    async def _write(
        self,
        messages: Sequence[Row],
        usernotices: Sequence[Row],
        mod_actions: Sequence[Row],
    ) -> WriteResult:
        conn = await self._connection()
        async with conn.transaction():
            if messages:
                await conn.copy_records_to_table(
                    "writer_stage_messages", records=messages, columns=MESSAGE_COLUMNS
                )
            if usernotices:
                await conn.copy_records_to_table(
                    "writer_stage_usernotices", records=usernotices, columns=USERNOTICE_COLUMNS
                )
            if mod_actions:
                await conn.copy_records_to_table(
                    "writer_stage_mod_actions", records=mod_actions, columns=MOD_ACTION_COLUMNS
                )
            result = await conn.fetchrow(WRITE_SQL)
        assert result is not None  # a SELECT without FROM returns one row
        return WriteResult(
            staged=(len(messages), len(usernotices), len(mod_actions)),
            inserted=(
                int(result["messages"]),
                int(result["usernotices"]),
                int(result["mod_actions"]),
            ),
            deletions_applied=int(result["deletions"]),
            deletions_queued=int(result["queued"]),
        )

    async def sweep(self) -> tuple[int, int]:
        """Apply queued deletions whose message has appeared, on a pool connection (the stream
        may be quiet): (applied, still waiting). Raises TransientStoreError."""
        try:
            row = await self._pool.fetchrow(SWEEP_SQL)
        except Exception as exc:  # sorted into retry or reject right here
            raise classify(exc) from exc
        assert row is not None
        return int(row["applied"]), int(row["waiting"])


def now_ms() -> int:
    """The wall clock in ms since the epoch, like tmi-sent-ts."""
    return time.time_ns() // 1_000_000


class Flusher:
    """Stores each queued batch: retries what PostgreSQL could not take, isolates rows it
    refuses, and acks a batch's messages once its transaction committed."""

    def __init__(
        self,
        stores: Sequence[Store],
        queue: BatchQueue[Msg],
        settler: Settler,
        dead_letter: DeadLetter,
        metrics: WriterMetrics,
        *,
        retry_min_s: float,
        retry_max_s: float,
    ) -> None:
        self._stores = stores
        self._queue = queue
        self._settler = settler
        self._dead_letter = dead_letter
        self._metrics = metrics
        self._retry = (retry_min_s, retry_max_s)
        self.current: list[Batch[Msg]] = []
        """The batches being stored (for in-progress acks while they are retried)."""
        self._acks: collections.deque[list[Msg]] = collections.deque()
        self._acks_changed = asyncio.Event()
        self._done = False
        self._deletions_waiting = True
        """Queued deletions may wait for their message (true at start: an earlier run's)."""

    async def run(self) -> None:
        """Until the queue is closed and empty: one worker per store connection, each taking the
        next batch; acks run beside, so the next COPY starts at once."""
        self._done = False
        async with asyncio.TaskGroup() as tg:
            acker = tg.create_task(self._ack_loop())
            sweeper = tg.create_task(self._sweep_loop())
            try:
                async with asyncio.TaskGroup() as workers:
                    for store in self._stores:
                        workers.create_task(self._work(store))
            finally:
                self._done = True
                self._acks_changed.set()
                sweeper.cancel()
            await acker
        with contextlib.suppress(TimeoutError):  # best effort: the next run sweeps at start
            async with asyncio.timeout(SWEEP_INTERVAL_S * 5):
                await self._sweep()  # what the last batches queued, if their messages are in

    async def _sweep_loop(self) -> None:
        """Applies queued deletions once their message is in, once a second while some wait
        (on a pool connection, beside the batches)."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            if self._deletions_waiting:
                await self._sweep()

    async def _sweep(self) -> None:
        self._deletions_waiting = False
        try:
            applied, waiting = await self._stores[0].sweep()
        except TransientStoreError as exc:
            log.warning("deletions_sweep_failed", error=str(exc.__cause__ or exc)[:300])
            self._deletions_waiting = True
            return
        if applied:
            self._metrics.deletions_applied.inc(applied)
            log.info("queued_deletions_applied", deletions=applied, waiting=waiting)
        if waiting:
            self._deletions_waiting = True

    async def _work(self, store: Store) -> None:
        async def write(part: Batch[Msg]) -> WriteResult:
            return await self._write(store, part)

        while (batch := await self._queue.get()) is not None:
            self.current.append(batch)
            try:
                await store_isolating(batch, write, self._reject, self._metrics.batch_splits.inc)
            finally:
                self.current.remove(batch)

    async def _ack_loop(self) -> None:
        while True:
            while self._acks:
                await self._settler.ack(self._acks.popleft())
            if self._done:
                return
            self._acks_changed.clear()
            await self._acks_changed.wait()

    async def _write(self, store: Store, batch: Batch[Msg]) -> WriteResult:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                result = await store.write(*batch.rows)
            except TransientStoreError as exc:
                reason = str(exc) or "connection"
                self._metrics.store_retries.labels(reason).inc()
                self._metrics.postgres_up.set(0)
                delay = backoff_delay(attempt, *self._retry)
                log.warning(
                    "batch_retry",
                    reason=reason,
                    error=str(exc.__cause__ or exc)[:300],
                    events=len(batch),
                    attempt=attempt + 1,
                    retry_in_s=round(delay, 3),
                )
                attempt += 1
                await asyncio.sleep(delay)
                continue
            duration = time.perf_counter() - started
            self._record(batch, result, duration, attempt)
            self._acks.append(batch.all_msgs())
            self._acks_changed.set()
            return result

    def _record(
        self, batch: Batch[Msg], result: WriteResult, duration: float, retries: int
    ) -> None:
        committed = now_ms()
        metrics = self._metrics
        metrics.postgres_up.set(1)
        metrics.batch_size.observe(len(batch))
        metrics.flush_duration.observe(duration)
        duplicates = result.duplicates
        for table, inserted, ignored in zip(KIND_TABLES, result.inserted, duplicates, strict=True):
            if inserted:
                metrics.rows_inserted.labels(table).inc(inserted)
            if ignored:
                metrics.duplicates.labels(table).inc(ignored)
        if result.deletions_applied:
            metrics.deletions_applied.inc(result.deletions_applied)
        if result.deletions_queued:
            self._deletions_waiting = True
        metrics.commit_delay.observe_many(
            (committed - row[1]) / 1000 for rows in batch.rows for row in rows
        )
        log.info(
            "batch_flushed",
            events=len(batch),
            rows=sum(result.inserted),
            duplicates=sum(duplicates),
            deletions=result.deletions_applied,
            duration_ms=round(duration * 1000, 1),
            retries=retries,
        )

    async def _reject(self, part: Batch[Msg], exc: RowRejectedError) -> None:
        for msg in part.all_msgs():
            await self._dead_letter.put(msg, Reason.STORE_REJECTED, exc.reason)
