"""schema/0001_init.sql against a real PostgreSQL: objects, partitions, functions, query plans."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import pytest

from twitch_archive.db import create_pool, init_connection, ping
from twitch_archive.events import Badge, Emote
from twitch_archive.migrate import migrate

pytestmark = pytest.mark.postgres

# Until the shared harness (twitch_archive.testing.plugin, fixture `pg_url`) lands, these tests
# make their own scratch databases on the server named by TEST_DATABASE_URL / DATABASE_URL.
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REPO_SCHEMA = Path(__file__).resolve().parents[4] / "schema"


def _server_url(database: str = "postgres") -> str:
    url = (
        os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    )
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _scratch_name(label: str) -> str:
    return f"scratch_{label}_{os.getpid()}_{secrets.token_hex(3)}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_server_url(), timeout=2)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _connect(url: str) -> asyncpg.Connection:
    conn: asyncpg.Connection = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


@pytest.fixture(scope="module")
def template_db() -> Iterator[str]:
    """A migrated scratch database tests clone; skipped (failed if CI=true) without a server."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = (
            f"PostgreSQL not reachable ({exc}); start it: uv run python scripts/services.py start"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = _scratch_name("schema_tpl")
    asyncio.run(migrate(_server_url(name), REPO_SCHEMA))
    yield name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_url(template_db: str) -> Iterator[str]:
    """A fresh copy of the migrated database for one test, dropped afterwards."""
    name = _scratch_name("schema")
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
    yield _server_url(name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the test's own database, with the archive's codecs."""
    connection = await _connect(db_url)
    yield connection
    await connection.close()


SAMPLE_ROWS = 6000
"""Messages every 20 minutes from 2024-01-01: three monthly partitions, 10 channels, 300 users."""


@pytest.fixture(scope="module")
def sample_db(template_db: str) -> Iterator[str]:
    """A read-only database with a small, analysed data set for EXPLAIN tests."""
    name = _scratch_name("schema_sample")

    async def load() -> None:
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        conn = await _connect(_server_url(name))
        try:
            for month in ("2024-01-15", "2024-02-15", "2024-03-15"):
                await conn.execute(
                    "SELECT archive_ensure_message_partition($1::text::timestamptz)", month
                )
            await conn.execute(
                """
                INSERT INTO messages (sent_at, channel_id, id, user_id, user_login, text,
                                      deleted_at)
                SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '20 minutes',
                       1 + i % 10, 'm' || i, 'u' || (i % 300), 'user' || (i % 300),
                       CASE WHEN i % 997 = 0 THEN 'a rareword appears'
                            ELSE 'hello chat message number ' || i END,
                       CASE WHEN i % 250 = 0
                            THEN timestamptz '2024-01-01 00:00:00+00' + i * interval '21 minutes'
                       END
                FROM generate_series(1, $1::int) AS i
                """,
                SAMPLE_ROWS,
            )
            await conn.execute(
                """
                INSERT INTO users (id, login, first_seen_at, last_seen_at)
                SELECT 'u' || i, 'user' || i, now(), now() FROM generate_series(0, 299) AS i;
                INSERT INTO mod_actions (id, created_at, channel_id, action, target_message_id)
                SELECT 'h:' || i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour',
                       1 + i % 10, CASE WHEN i % 3 = 0 THEN 'delete' ELSE 'timeout' END,
                       CASE WHEN i % 3 = 0 THEN 'm' || i END
                FROM generate_series(1, 2000) AS i;
                """
            )
            # VACUUM also empties the GIN pending list, as autovacuum does in production.
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()

    asyncio.run(load())
    yield _server_url(name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def sample(sample_db: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the sample database with sequential scans disabled, to prove index use."""
    connection = await _connect(sample_db)
    await connection.execute("SET enable_seqscan = off")
    yield connection
    await connection.close()


# ------------------------------------------------------------------------------------ objects

TABLES = {
    "channels", "users", "user_names", "messages", "messages_default", "mod_actions",
    "usernotices", "channel_hourly_stats", "user_channel_stats", "coverage_gaps",
    "schema_migrations",
}  # fmt: skip

INDEXES = {
    "channels_pkey", "channels_login_key", "channels_twitch_id_key",
    "users_pkey", "users_login_idx", "user_names_pkey", "user_names_login_idx",
    "messages_pkey", "messages_channel_sent_idx", "messages_user_sent_idx", "messages_sent_idx",
    "messages_channel_fts_idx", "messages_deleted_idx",
    "mod_actions_pkey", "mod_actions_channel_idx", "mod_actions_target_user_idx",
    "mod_actions_target_login_idx", "mod_actions_action_idx", "mod_actions_moderator_idx",
    "mod_actions_created_idx", "mod_actions_target_message_idx",
    "usernotices_pkey", "usernotices_channel_idx", "usernotices_user_idx", "usernotices_type_idx",
    "channel_hourly_stats_pkey", "user_channel_stats_pkey", "user_channel_stats_channel_idx",
    "coverage_gaps_pkey", "coverage_gaps_channel_idx", "schema_migrations_pkey",
}  # fmt: skip

FUNCTIONS = {
    "archive_ensure_message_partition(timestamp with time zone)",
    "archive_messages_before_action(text,integer)",
    "archive_touch_updated_at()",
}


async def test_every_table_index_and_function_exists(conn: asyncpg.Connection) -> None:
    """The migration creates every table, index and function the services rely on."""
    tables = {
        r["relname"]
        for r in await conn.fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p')"
        )
    }
    indexes = {
        r["relname"]
        for r in await conn.fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('i', 'I')"
        )
    }
    functions = {
        r["sig"]
        for r in await conn.fetch(
            "SELECT p.oid::regprocedure::text AS sig FROM pg_proc p "
            "WHERE p.pronamespace = 'public'::regnamespace"
        )
    }

    assert tables >= TABLES
    assert indexes >= INDEXES
    assert functions >= FUNCTIONS


async def test_messages_is_partitioned_by_sent_at_with_a_default(conn: asyncpg.Connection) -> None:
    """messages is range-partitioned on sent_at and has a DEFAULT partition."""
    key = await conn.fetchval("SELECT pg_get_partkeydef('messages'::regclass)")
    default = await conn.fetchval(
        "SELECT partdefid::regclass::text FROM pg_partitioned_table "
        "WHERE partrelid = 'messages'::regclass"
    )

    assert key == "RANGE (sent_at)"
    assert default == "messages_default"


async def test_tables_carry_comments(conn: asyncpg.Connection) -> None:
    """Every archive table explains itself with COMMENT ON."""
    missing = await conn.fetch(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relkind IN ('r', 'p') AND relname = ANY($1::text[]) "
        "AND obj_description(oid, 'pg_class') IS NULL",
        sorted(TABLES - {"messages_default"}),
    )

    assert [r["relname"] for r in missing] == []


async def test_id_and_login_columns_use_c_collation(conn: asyncpg.Connection) -> None:
    """Id and login columns are COLLATE "C" so their btrees are bytewise and serve prefix LIKE."""
    rows = await conn.fetch(
        """
        SELECT c.table_name || '.' || c.column_name AS col, c.collation_name
        FROM information_schema.columns c
        WHERE c.table_schema = 'public' AND c.data_type = 'text'
          AND (c.column_name IN ('id', 'login', 'twitch_id')
               OR c.column_name LIKE '%\\_id' OR c.column_name LIKE '%\\_login')
          AND c.table_name NOT LIKE 'messages\\_%' AND c.table_name <> 'schema_migrations'
        """
    )

    assert rows
    assert {r["col"]: r["collation_name"] for r in rows if r["collation_name"] != "C"} == {}


async def test_constraints_reject_bad_rows(conn: asyncpg.Connection) -> None:
    """Channel logins must be lowercase and hourly stats rows must sit on a whole hour."""
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("INSERT INTO channels (login) VALUES ('Forsen')")
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "INSERT INTO channel_hourly_stats (channel_id, hour) "
            "VALUES (1, '2024-03-15 12:30:00+00')"
        )
    await conn.execute(
        "INSERT INTO channel_hourly_stats (channel_id, hour) VALUES (1, '2024-03-15 12:00:00+00')"
    )


async def test_channel_updated_at_moves_on_update(conn: asyncpg.Connection) -> None:
    """Updating a channel bumps updated_at without the writer having to set it."""
    await conn.execute(
        "INSERT INTO channels (login, updated_at) VALUES ('forsen', '2020-01-01 00:00:00+00')"
    )
    await conn.execute("UPDATE channels SET is_active = false WHERE login = 'forsen'")

    updated = await conn.fetchval("SELECT updated_at FROM channels WHERE login = 'forsen'")
    assert updated > datetime(2024, 1, 1, tzinfo=UTC)


async def test_duplicate_message_is_dropped_by_the_primary_key(conn: asyncpg.Connection) -> None:
    """Two copies of one line (same id and tmi-sent-ts) leave one row: ON CONFLICT DO NOTHING."""
    insert = (
        "INSERT INTO messages (sent_at, channel_id, id, text) "
        "VALUES ('2024-03-15 12:00:00+00', 1, 'abc', 'hi') ON CONFLICT DO NOTHING"
    )
    await conn.execute(insert)
    await conn.execute(insert)

    assert await conn.fetchval("SELECT count(*) FROM messages WHERE id = 'abc'") == 1


# --------------------------------------------------------------------------------- partitions


async def _where(conn: asyncpg.Connection, message_id: str) -> str:
    return str(
        await conn.fetchval(
            "SELECT tableoid::regclass::text FROM messages WHERE id = $1", message_id
        )
    )


async def _insert_message(conn: asyncpg.Connection, message_id: str, sent_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO messages (sent_at, channel_id, id, text) VALUES ($1, 1, $2, 'text')",
        sent_at,
        message_id,
    )


async def test_message_lands_in_its_month_partition(conn: asyncpg.Connection) -> None:
    """After ensuring March 2024, a message sent on 2024-03-15 is stored in messages_y2024m03."""
    part = await conn.fetchval("SELECT archive_ensure_message_partition('2024-03-15 12:00:00+00')")
    await _insert_message(conn, "march", datetime(2024, 3, 15, 12, tzinfo=UTC))

    assert str(part) == "messages_y2024m03"
    assert await _where(conn, "march") == "messages_y2024m03"


async def test_partition_bounds_are_utc_months_whatever_the_session_zone(
    conn: asyncpg.Connection,
) -> None:
    """A session in UTC+14 still gets a partition spanning exactly one UTC month."""
    await conn.execute("SET TimeZone = 'Pacific/Kiritimati'")
    part = await conn.fetchval("SELECT archive_ensure_message_partition('2024-03-31 23:00:00+00')")
    await conn.execute("SET TimeZone = 'UTC'")
    bounds = await conn.fetchval(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = $1::regclass", str(part)
    )

    assert str(part) == "messages_y2024m03"
    assert bounds == "FOR VALUES FROM ('2024-03-01 00:00:00+00') TO ('2024-04-01 00:00:00+00')"


async def test_ensure_partition_is_idempotent_under_concurrency(db_url: str) -> None:
    """Eight sessions ensuring the same and neighbouring months at once all succeed, once each."""
    conns = [await _connect(db_url) for _ in range(8)]
    try:
        months = ["2024-05-10", "2024-05-20", "2024-06-01", "2024-05-31 23:59:59+00"] * 2
        parts = await asyncio.gather(
            *(
                c.fetchval(
                    "SELECT archive_ensure_message_partition($1::text::timestamptz)::text", month
                )
                for c, month in zip(conns, months, strict=True)
            )
        )
        again = await conns[0].fetchval(
            "SELECT archive_ensure_message_partition('2024-05-01 00:00:00+00')::text"
        )
        children = await conns[0].fetchval(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'messages'::regclass AND c.relname LIKE 'messages_y2024m0%'"
        )
    finally:
        await asyncio.gather(*(c.close() for c in conns))

    assert sorted(set(parts)) == ["messages_y2024m05", "messages_y2024m06"]
    assert again == "messages_y2024m05"
    assert children == 2


async def test_ensure_partition_from_a_stale_snapshot_returns_the_existing_one(db_url: str) -> None:
    """A REPEATABLE READ caller that cannot see a just-committed partition still gets it back."""
    stale, other = await _connect(db_url), await _connect(db_url)
    try:
        async with stale.transaction(isolation="repeatable_read"):
            await stale.fetchval("SELECT count(*) FROM pg_inherits")  # takes the snapshot
            await other.execute("SELECT archive_ensure_message_partition('2024-07-07')")
            part = await stale.fetchval(
                "SELECT archive_ensure_message_partition('2024-07-07')::text"
            )
    finally:
        await stale.close()
        await other.close()

    assert part == "messages_y2024m07"


async def test_new_partition_gets_every_index_of_messages(conn: asyncpg.Connection) -> None:
    """A partition created by the function carries a child of every index declared on messages."""
    await conn.execute("SELECT archive_ensure_message_partition('2024-03-15')")
    missing = await conn.fetch(
        """
        SELECT parent.relname
        FROM pg_index pi JOIN pg_class parent ON parent.oid = pi.indexrelid
        WHERE pi.indrelid = 'messages'::regclass
          AND NOT EXISTS (
              SELECT 1 FROM pg_inherits i JOIN pg_index ci ON ci.indexrelid = i.inhrelid
              WHERE i.inhparent = parent.oid AND ci.indrelid = 'messages_y2024m03'::regclass)
        """
    )
    is_pk = await conn.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'messages_y2024m03'::regclass "
        "AND contype = 'p'"
    )

    assert [r["relname"] for r in missing] == []
    assert is_pk == 1


async def test_default_partition_rows_move_when_their_month_is_created(
    conn: asyncpg.Connection,
) -> None:
    """Rows that arrived before their month's partition existed are moved out of the default."""
    await _insert_message(conn, "early", datetime(2024, 8, 1, tzinfo=UTC))
    await _insert_message(conn, "late", datetime(2024, 8, 31, 23, 30, tzinfo=UTC))
    await _insert_message(conn, "september", datetime(2024, 9, 1, tzinfo=UTC))
    assert await _where(conn, "early") == "messages_default"

    await conn.execute("SELECT archive_ensure_message_partition('2024-08-15')")

    assert await _where(conn, "early") == "messages_y2024m08"
    assert await _where(conn, "late") == "messages_y2024m08"
    assert await _where(conn, "september") == "messages_default"


@pytest.mark.parametrize(
    "sent_at",
    [
        pytest.param(datetime(1970, 1, 1, tzinfo=UTC), id="ts:0"),
        pytest.param(datetime(1969, 12, 31, 23, 59, tzinfo=UTC), id="ts:negative"),
        pytest.param(datetime.now(UTC) + timedelta(days=800), id="ts:far-future"),
    ],
)
async def test_junk_timestamps_stay_in_the_default_partition(
    conn: asyncpg.Connection, sent_at: datetime
) -> None:
    """A junk tmi-sent-ts is stored (nothing is lost) in messages_default and gets no partition."""
    await _insert_message(conn, "junk", sent_at)
    part = await conn.fetchval("SELECT archive_ensure_message_partition($1)", sent_at)

    assert part is None
    assert await _where(conn, "junk") == "messages_default"


# ------------------------------------------------------------------------------ functions, codec


async def test_messages_before_action_returns_the_targets_last_lines(
    conn: asyncpg.Connection,
) -> None:
    """A ban links to the target's latest messages in that channel up to the ban, newest first."""
    await conn.execute("SELECT archive_ensure_message_partition('2024-03-15')")
    base = datetime(2024, 3, 15, 12, tzinfo=UTC)
    rows = [
        (base + timedelta(seconds=s), channel, message_id, user)
        for s, channel, message_id, user in [
            (1, 1, "a1", "u1"), (2, 1, "a2", "u1"), (3, 2, "other-channel", "u1"),
            (4, 1, "other-user", "u2"), (5, 1, "a3", "u1"), (60, 1, "after-ban", "u1"),
        ]
    ]  # fmt: skip
    await conn.executemany(
        "INSERT INTO messages (sent_at, channel_id, id, user_id, text) VALUES ($1, $2, $3, $4, '')",
        rows,
    )
    await conn.execute(
        "INSERT INTO mod_actions (id, created_at, channel_id, action, target_user_id) "
        "VALUES ('h:ban', $1, 1, 'ban', 'u1')",
        base + timedelta(seconds=10),
    )

    found = await conn.fetch(
        "SELECT id FROM archive_messages_before_action('h:ban', 2) ORDER BY sent_at DESC, id DESC"
    )
    assert [r["id"] for r in found] == ["a3", "a2"]


async def test_pool_round_trips_jsonb_through_msgspec_and_copy(db_url: str) -> None:
    """The pool's msgspec codec encodes Structs and lists to jsonb, through COPY too, and back."""
    pool = await create_pool(db_url, max_size=2, application_name="test-schema")
    try:
        await pool.execute("SELECT archive_ensure_message_partition('2024-03-15')")
        record: tuple[object, ...] = (
            datetime(2024, 3, 15, tzinfo=UTC), 1, "m1", "Kappa hi",
            (Badge("moderator", "1"),), [], [Emote("25", 0, 4)],
        )  # fmt: skip
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(
                "messages",
                records=[record],
                columns=["sent_at", "channel_id", "id", "text", "badges", "badge_info", "emotes"],
            )
        row = await pool.fetchrow("SELECT badges, badge_info, emotes FROM messages WHERE id = 'm1'")
        echoed = await pool.fetchval("SELECT $1::jsonb", {"params": {"msg-param-months": "3"}})
        as_json = await pool.fetchval("""SELECT '{"a": [1, "x"]}'::json""")
        settings = await pool.fetchrow(
            "SELECT current_setting('application_name') AS app, "
            "current_setting('plan_cache_mode') AS plans"
        )
    finally:
        await pool.close()

    assert row is not None
    assert row["badges"] == msgspec.to_builtins([Badge("moderator", "1")])
    assert row["badge_info"] == []
    assert row["emotes"] == [{"id": "25", "start": 0, "end": 4}]
    assert echoed == {"params": {"msg-param-months": "3"}}
    assert as_json == {"a": [1, "x"]}
    assert settings is not None
    assert (settings["app"], settings["plans"]) == ("test-schema", "force_custom_plan")


async def test_ping_answers_true_then_false_once_closed(db_url: str) -> None:
    """ping is True for a live pool or connection and False, not an exception, once closed."""
    pool = await create_pool(db_url, max_size=1)
    conn = await _connect(db_url)
    assert await ping(pool) is True
    assert await ping(conn) is True
    await pool.close()
    await conn.close()

    assert await ping(pool) is False
    assert await ping(conn) is False


# ------------------------------------------------------------------------------------- plans


async def _plan(conn: asyncpg.Connection, sql: str) -> dict[str, Any]:
    explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}")  # json: decoded by the codec
    plan: dict[str, Any] = explained[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _parent_index(conn: asyncpg.Connection, index_name: str) -> str:
    """The index declared on messages that a partition's index belongs to (or itself)."""
    parent = await conn.fetchval(
        "SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = $1::regclass",
        index_name,
    )
    return str(parent or index_name)


async def _indexes_used(conn: asyncpg.Connection, sql: str) -> tuple[set[str], set[str]]:
    """(parent indexes used, node types) for the plan of `sql`."""
    nodes = list(_nodes(await _plan(conn, sql)))
    names = {n["Index Name"] for n in nodes if "Index Name" in n}
    return {await _parent_index(conn, name) for name in names}, {n["Node Type"] for n in nodes}


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        pytest.param(
            "SELECT * FROM messages WHERE channel_id = 3 ORDER BY sent_at DESC, id DESC LIMIT 50",
            "messages_channel_sent_idx",
            id="latest-50:channel",
        ),
        pytest.param(
            "SELECT * FROM messages WHERE channel_id = 3 "
            "AND (sent_at, id) < ('2024-02-10 00:00:00+00', 'm999') "
            "ORDER BY sent_at DESC, id DESC LIMIT 50",
            "messages_channel_sent_idx",
            id="keyset-page:channel",
        ),
        pytest.param(
            "SELECT * FROM messages WHERE user_id = 'u7' ORDER BY sent_at DESC, id DESC LIMIT 50",
            "messages_user_sent_idx",
            id="latest-50:user",
        ),
        pytest.param(
            "SELECT * FROM messages ORDER BY sent_at DESC, id DESC LIMIT 50",
            "messages_sent_idx",
            id="latest-50:everywhere",
        ),
        pytest.param(
            "SELECT * FROM messages WHERE channel_id = 3 AND deleted_at IS NOT NULL "
            "ORDER BY sent_at DESC, id DESC LIMIT 50",
            "messages_deleted_idx",
            id="latest-50:deleted-in-channel",
        ),
    ],
)
async def test_latest_messages_use_an_index_without_sorting(
    sample: asyncpg.Connection, sql: str, index: str
) -> None:
    """Newest-first listings walk an index backwards: no sort of the matching rows."""
    await sample.execute("SET enable_bitmapscan = off")  # tiny data: bitmap + sort looks cheaper
    used, node_types = await _indexes_used(sample, sql)

    assert index in used
    assert "Sort" not in node_types


@pytest.mark.parametrize(
    "channel_filter", ["channel_id = 8 AND ", ""], ids=["one-channel", "every-channel"]
)
async def test_full_text_search_uses_the_channel_and_words_gin_index(
    sample: asyncpg.Connection, channel_filter: str
) -> None:
    """A word search reads the (channel, words) GIN index, not every row: in one channel both
    columns, across channels the words alone (a GIN index serves any subset of its columns)."""
    used, _ = await _indexes_used(
        sample,
        f"SELECT * FROM messages WHERE {channel_filter}"
        "to_tsvector('simple', text) @@ websearch_to_tsquery('simple', 'RareWord') "
        "ORDER BY sent_at DESC, id DESC LIMIT 50",
    )

    assert "messages_channel_fts_idx" in used


async def test_full_text_search_finds_words_case_insensitively(
    sample: asyncpg.Connection,
) -> None:
    """The 'simple' configuration lowercases but does not stem: 'RareWord' matches, 'rare' not."""
    count = (
        "SELECT count(*) FROM messages "
        "WHERE to_tsvector('simple', text) @@ websearch_to_tsquery('simple', $1)"
    )

    assert await sample.fetchval(count, "RareWord") == SAMPLE_ROWS // 997
    assert await sample.fetchval(count, "rare") == 0


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        pytest.param(
            "SELECT id FROM users WHERE login LIKE 'user1%' ORDER BY login LIMIT 20",
            "users_login_idx",
            id="users:login-prefix",
        ),
        pytest.param(
            "SELECT * FROM mod_actions WHERE target_message_id = ANY('{m3,m6}'::text[]) "
            "AND action = 'delete'",
            "mod_actions_target_message_idx",
            id="mod-actions:pending-deletes",
        ),
        pytest.param(
            "SELECT * FROM mod_actions WHERE channel_id = 2 ORDER BY created_at DESC LIMIT 50",
            "mod_actions_channel_idx",
            id="mod-actions:channel",
        ),
    ],
)
async def test_lookups_use_their_index(sample: asyncpg.Connection, sql: str, index: str) -> None:
    """Prefix search on logins and the pending-deletion lookup are index scans."""
    used, _ = await _indexes_used(sample, sql)

    assert index in used
