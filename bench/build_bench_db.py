"""Build the API benchmark database once: a year of generated chat, built inside PostgreSQL.

Usage: uv run python bench/build_bench_db.py [--quick] [--rebuild] [--database-url URL]

`archive_bench_10m` holds 10,000,000 messages (`--quick`: `archive_bench_1m`, 1,000,000) in 50
channels with a busy-channel skew, from 500,000 users (50,000 for --quick) whose activity is
heavily skewed too; a year of time with each channel's stream hours; 0.5% of messages deleted
(each with its CLEARMSG action), timeouts, bans, unbans, clears, user notices, renamed users,
coverage gaps; every rollup (users, user_names, user_channel_stats, channel_hourly_stats)
computed from the rows, so they agree exactly. A database that exists and is marked complete is
reused; anything else is dropped and built again.

How: the schema comes from `twitch-archive migrate`; each month is generated server-side
(`INSERT ... SELECT` over generate_series, sorted by time) into a standalone table without
indexes, indexed, then attached as a partition (its CHECK constraint spares the validation scan),
two months at a time on the two cores. Minutes, not hours.
"""

# ruff: noqa: RUF001 - the multilingual vocabulary holds Cyrillic letters on purpose

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from twitch_archive.migrate import migrate
from twitch_archive.simulator.words import EMOJI, EMOTES, NAME_ADJECTIVES, NAME_PARTS, WORDS

DEFAULT_SERVER = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

MULTILINGUAL = (  # noqa: SIM905 - one line per language reads better than a list
    "hola gracias jajaja buenas que bueno amigo vamos "  # es
    "danke bitte hallo genau krass geil "  # de
    "merci bonjour salut trop mdr "  # fr
    "obrigado kkkkk valeu "  # pt
    "привет спасибо круто да нет ахаха "  # ru
    "こんにちは ありがとう すごい 草 "  # ja
    "안녕하세요 감사합니다 ㅋㅋㅋ "  # ko
    "你好 谢谢 哈哈哈 "  # zh
    "cześć dzięki merhaba teşekkürler"  # pl, tr
).split()


@dataclass(frozen=True)
class Variant:
    database: str
    messages: int
    users: int
    channels: int = 50


VARIANTS = {
    "10m": Variant("archive_bench_10m", 10_000_000, 500_000),
    "1m": Variant("archive_bench_1m", 1_000_000, 50_000),
}


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


class Progress:
    """A one-line progress bar on stderr: weighted steps, elapsed time and an estimate."""

    def __init__(self, total: float) -> None:
        self.total = total
        self.done = 0.0
        self.started = time.monotonic()
        self.label = ""

    def step(self, label: str) -> None:
        self.label = label
        self.draw(force=True)

    def advance(self, amount: float) -> None:
        self.done += amount
        self.draw()

    def draw(self, *, force: bool = False) -> None:
        if not sys.stderr.isatty() and not force:
            return  # a log file gets one line per step, not one per redraw
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        elapsed = time.monotonic() - self.started
        eta = f"{elapsed / frac - elapsed:4.0f}s left" if frac > 0.02 else "  ...    "
        bar = "#" * int(frac * 30) + "." * (30 - int(frac * 30))
        end = "" if sys.stderr.isatty() else "\n"
        sys.stderr.write(
            f"\r[{bar}] {frac * 100:5.1f}% {elapsed:5.0f}s {eta}  {self.label:<40}{end}"
        )
        sys.stderr.flush()

    def finish(self) -> None:
        self.done = self.total
        self.label = "done"
        self.draw()
        sys.stderr.write("\n")


def months_between(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """(month start, next month start) for every UTC month touching [start, end)."""
    out = []
    month = datetime(start.year, start.month, 1, tzinfo=UTC)
    while month < end:
        nxt = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
        out.append((month, nxt))
        month = nxt
    return out


def channel_logins(count: int) -> list[str]:
    rng = random.Random(7)
    seen: list[str] = []
    while len(seen) < count:
        suffix = rng.choice(["", "tv", "live", "_gg"])
        name = f"{rng.choice(NAME_ADJECTIVES)}{rng.choice(NAME_PARTS)}{suffix}"
        if name not in seen and len(name) <= 25:
            seen.append(name)
    return seen


def vocabulary() -> list[str]:
    rng = random.Random(11)
    words = list(WORDS) + [code for code, _ in EMOTES] + list(MULTILINGUAL) + list(EMOJI)
    rng.shuffle(words)
    # A few words everybody types come first: the power-law pick makes the first ones common.
    head = ["lol", "the", "KEKW", "gg", "LUL", "i", "is", "Kappa"]
    return head + [w for w in words if w not in head]


MONTH_SQL = """
INSERT INTO {part} (sent_at, deleted_at, channel_id, bits, is_action, first_msg, id, user_id,
    user_login, display_name, text, color, badges, badge_info, emotes)
SELECT sent_at,
       CASE WHEN z < 0.005 THEN sent_at + (1 + z * 4000) * interval '1 second' END,
       channel_id,
       CASE WHEN x < 0.002 THEN 100 END,
       x > 0.99, x BETWEEN 0.002 AND 0.004,
       md5($5::text || ':' || g)::uuid::text AS id,
       user_id,
       CASE WHEN renamed_at IS NOT NULL AND sent_at < renamed_at THEN old_login ELSE login END,
       display_name, text, color, badges, '[]'::jsonb, '[]'::jsonb
FROM (
    SELECT p.*,
           $1::timestamptz + ((floor(p.e * $3) * 86400
                + CASE WHEN p.f < 0.85 THEN ((p.channel_id * 7) % 24) * 3600 + p.h * 21600
                       ELSE p.h * 86400 END)::bigint % $4) * interval '1 second'
             + (p.x * 1000)::int * interval '1 millisecond' AS sent_at
    FROM (
        SELECT src.g, src.e, src.f, src.h, src.x, src.z, u.id AS user_id, u.login, u.old_login,
               u.renamed_at, u.display_name, u.color, u.badges, s.t AS text,
               CASE WHEN src.c < 0.85 THEN u.home
                    ELSE 1 + floor($7 * power(src.d, 2.2))::int END AS channel_id
        FROM (
            SELECT g, random() AS a, random() AS b, random() AS c, random() AS d, random() AS e,
                   random() AS f, random() AS h, random() AS x, random() AS z
            FROM generate_series(1, $2::int) AS g
        ) AS src
        JOIN bench_users AS u ON u.n = floor($6 * power(src.a, 2.5))::int
        JOIN bench_sentences AS s ON s.i = floor(100000 * power(src.b, 1.3))::int
    ) AS p
) AS q
ORDER BY sent_at, id
"""

PARTITION_INDEXES = (
    "ALTER TABLE {part} ADD PRIMARY KEY (id, sent_at)",
    "CREATE INDEX ON {part} (channel_id, sent_at, id)",
    "CREATE INDEX ON {part} (user_id, sent_at, id)",
    "CREATE INDEX ON {part} (sent_at, id)",
    "CREATE INDEX ON {part} USING gin (channel_id, to_tsvector('simple', text))",
    "CREATE INDEX ON {part} (channel_id, sent_at, id) WHERE deleted_at IS NOT NULL",
)


async def is_complete(server: str, variant: Variant) -> bool:
    conn = await asyncpg.connect(with_database(server, "postgres"))
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", variant.database
        )
    finally:
        await conn.close()
    if not exists:
        return False
    conn = await asyncpg.connect(with_database(server, variant.database))
    try:
        return bool(
            await conn.fetchval(
                "SELECT to_regclass('bench_meta') IS NOT NULL AND EXISTS "
                "(SELECT 1 FROM bench_meta WHERE key = 'complete' AND value = $1)",
                str(variant.messages),
            )
        )
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def drop_database(server: str, name: str) -> None:
    conn = await asyncpg.connect(with_database(server, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def session(url: str) -> asyncpg.Connection[Any]:
    conn: asyncpg.Connection[Any] = await asyncpg.connect(url, command_timeout=None)
    await conn.execute(
        "SET synchronous_commit = off; SET work_mem = '512MB'; "
        "SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 0; "
        "SET TimeZone = 'UTC'"
    )
    return conn


async def build(server: str, variant: Variant) -> None:
    url = with_database(server, variant.database)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365)
    months = months_between(start, now)
    progress = Progress(total=20 + len(months) * 10 + 60)
    progress.step("schema")
    await drop_database(server, variant.database)
    await migrate(url)
    conn = await session(url)
    try:
        await conn.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value text)")
        await conn.execute("INSERT INTO bench_meta VALUES ('started', now()::text)")
        # migrate made this and next month's partitions; the months generated here are rebuilt.
        for lo, _ in months:
            await conn.execute(f"DROP TABLE IF EXISTS {part_name(lo)}")
        logins = channel_logins(variant.channels)
        await conn.executemany(
            "INSERT INTO channels (login, twitch_id, display_name, is_active, created_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            [
                (login, str(20_000_000 + i), login.title(), i <= 45, start)
                for i, login in enumerate(logins, start=1)
            ],
        )
        progress.step("vocabulary and users")
        await conn.execute(
            """
            CREATE TABLE bench_sentences AS
            SELECT i, (SELECT string_agg(w[1 + k * 0 + floor(power(random(), 2.2)
                                                     * array_length(w, 1))::int], ' ')
                       FROM generate_series(0, i % 11) AS k) AS t
            FROM generate_series(0, 100000) AS i, (SELECT $1::text[] AS w) AS ws
            """,
            vocabulary(),
        )
        await conn.execute("ALTER TABLE bench_sentences ADD PRIMARY KEY (i)")
        await conn.execute(
            """
            CREATE TABLE bench_users AS
            SELECT n, (10000000 + n)::text AS id, login,
                   CASE WHEN n % 100 = 7 THEN 'old_' || login END AS old_login,
                   CASE WHEN n % 100 = 7 THEN $3::timestamptz + (n % 300) * interval '1 day'
                   END AS renamed_at,
                   initcap(login) AS display_name,
                   1 + floor($2 * power(((hashint4(n) & 2147483647)::float8 / 2147483647),
                                        2.2))::int AS home,
                   (ARRAY['#FF0000','#1E90FF','#8A2BE2','#00FF7F','#DAA520', NULL])
                       [1 + n % 6] AS color,
                   CASE WHEN n % 5 = 0
                        THEN '[{"name": "subscriber", "version": "12"}]'::jsonb
                        ELSE '[]'::jsonb END AS badges
            FROM (SELECT n, adj[1 + n % array_length(adj, 1)]
                          || part[1 + (n / array_length(adj, 1)) % array_length(part, 1)]
                          || n::text AS login
                  FROM generate_series(0, $1::int) AS n,
                       (SELECT $4::text[] AS adj, $5::text[] AS part) AS parts) AS x
            """,
            variant.users,
            variant.channels,
            start,
            list(NAME_ADJECTIVES),
            list(NAME_PARTS),
        )
        await conn.execute("ALTER TABLE bench_users ADD PRIMARY KEY (n)")
        await conn.execute("ANALYZE bench_users; ANALYZE bench_sentences")
    finally:
        await conn.close()
    progress.advance(20)

    total_seconds = (now - start).total_seconds()
    queue: asyncio.Queue[tuple[datetime, datetime]] = asyncio.Queue()
    for lo, hi in reversed(months):
        queue.put_nowait((lo, hi))
    attach_lock = asyncio.Lock()

    async def worker() -> None:
        conn = await session(url)
        try:
            while not queue.empty():
                lo, hi = queue.get_nowait()
                span_lo, span_hi = max(lo, start), min(hi, now)
                seconds = int((span_hi - span_lo).total_seconds())
                count = round(variant.messages * seconds / total_seconds)
                part = part_name(lo)
                progress.step(f"generating {part}")
                await conn.execute(
                    f"CREATE TABLE {part} (LIKE messages INCLUDING DEFAULTS "
                    "INCLUDING CONSTRAINTS INCLUDING STORAGE)"
                )
                await conn.execute(
                    MONTH_SQL.format(part=part),
                    span_lo,
                    count,
                    max(1, seconds // 86400 + 1),
                    max(1, seconds),
                    part,
                    variant.users,
                    variant.channels,
                )
                progress.advance(4)
                for ddl in PARTITION_INDEXES:
                    await conn.execute(ddl.format(part=part))
                    progress.advance(1)
                await conn.execute(
                    f"ALTER TABLE {part} ADD CONSTRAINT {part}_bound "
                    f"CHECK (sent_at >= '{lo.isoformat()}' AND sent_at < '{hi.isoformat()}')"
                )
                async with attach_lock:
                    await conn.execute(
                        f"ALTER TABLE messages ATTACH PARTITION {part} "
                        f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')"
                    )
                await conn.execute(f"ALTER TABLE {part} DROP CONSTRAINT {part}_bound")
        finally:
            await conn.close()

    await asyncio.gather(worker(), worker())

    conn = await session(url)
    try:
        steps: list[tuple[str, float, Callable[[], Awaitable[Any]]]] = [
            ("moderation actions", 8, lambda: conn.execute(MOD_ACTIONS_SQL)),
            ("clears", 1, lambda: conn.execute(CLEARS_SQL, start, now)),
            ("unbans", 1, lambda: conn.execute(UNBANS_SQL)),
            ("user notices", 6, lambda: conn.execute(USERNOTICES_SQL)),
            ("hourly rollup", 8, lambda: conn.execute(HOURLY_SQL)),
            ("user/channel rollup", 10, lambda: conn.execute(USER_CHANNEL_SQL)),
            ("user names", 10, lambda: conn.execute(USER_NAMES_SQL)),
            ("users", 3, lambda: conn.execute(USERS_SQL)),
            ("channels and gaps", 1, lambda: conn.execute(CHANNELS_SQL)),
            ("vacuum analyze", 13, lambda: conn.execute("VACUUM (ANALYZE)")),
        ]
        for label, weight, run in steps:
            progress.step(label)
            await run()
            progress.advance(weight)
        await conn.execute(
            "INSERT INTO bench_meta VALUES ('complete', $1), ('built_at', $2)",
            str(variant.messages),
            now.isoformat(),
        )
    finally:
        await conn.close()
    progress.finish()


def part_name(month: datetime) -> str:
    return f"messages_y{month.year:04d}m{month.month:02d}"


MOD_ACTIONS_SQL = """
INSERT INTO mod_actions (id, created_at, channel_id, action, target_user_id, target_user_login,
    duration_s, target_message_id, message_text, moderator_id, moderator_login, reason)
SELECT 'del-' || id, deleted_at, channel_id, 'delete', NULL, user_login, NULL, id, text,
       NULL, NULL, NULL
FROM messages WHERE deleted_at IS NOT NULL;

INSERT INTO mod_actions (id, created_at, channel_id, action, target_user_id, target_user_login,
    duration_s, target_message_id, message_text, moderator_id, moderator_login, reason)
SELECT 'ma-' || id, sent_at + interval '3 seconds', channel_id,
       CASE WHEN k < 12 THEN 'timeout' ELSE 'ban' END,
       user_id, user_login,
       CASE WHEN k < 12 THEN (ARRAY[1, 60, 600, 600, 3600, 86400])[1 + k % 6] END,
       NULL, NULL,
       CASE WHEN k % 10 = 0 THEN (10000000 + k)::text END,
       CASE WHEN k % 10 = 0 THEN 'mod_' || k END,
       CASE WHEN k % 3 = 0 THEN 'spam' END
FROM (SELECT *, hashtext(id) & 4095 AS k FROM messages) AS m
WHERE k < 14;
"""

CLEARS_SQL = """
INSERT INTO mod_actions (id, created_at, channel_id, action)
SELECT 'clear-' || c.id || '-' || d,
       $1::timestamptz + d * interval '5 days' + c.id * interval '1 hour', c.id, 'clear'
FROM channels AS c, generate_series(0, 72) AS d
WHERE $1::timestamptz + d * interval '5 days' + c.id * interval '1 hour' < $2::timestamptz
"""

UNBANS_SQL = """
INSERT INTO mod_actions (id, created_at, channel_id, action, target_user_id, target_user_login)
SELECT 'unban-' || id, created_at + interval '2 days', channel_id, 'unban', target_user_id,
       target_user_login
FROM mod_actions WHERE action = 'ban' AND hashtext(id) % 10 = 0;
"""

USERNOTICES_SQL = """
INSERT INTO usernotices (id, sent_at, channel_id, notice_type, message_id, user_id, user_login,
    display_name, text, system_msg, params)
SELECT 'un-' || id, sent_at + interval '1 millisecond', channel_id,
       (ARRAY['sub', 'resub', 'resub', 'subgift', 'raid', 'announcement'])[1 + k % 6],
       'un-' || id, user_id, user_login, display_name,
       CASE WHEN k % 2 = 0 THEN text END,
       display_name || ' subscribed!', jsonb_build_object('cumulative-months', (k % 40)::text)
FROM (SELECT *, hashtext(id || 'n') & 1023 AS k FROM messages) AS m
WHERE k < 5;
"""

HOURLY_SQL = """
INSERT INTO channel_hourly_stats (channel_id, hour, messages, usernotices, mod_actions,
    deletions, bans, timeouts)
SELECT channel_id, hour, sum(m), sum(u), sum(a), sum(d), sum(b), sum(t)
FROM (
    SELECT channel_id, date_trunc('hour', sent_at, 'UTC') AS hour, count(*) AS m, 0 AS u,
           0 AS a, 0 AS d, 0 AS b, 0 AS t
    FROM messages GROUP BY 1, 2
    UNION ALL
    SELECT channel_id, date_trunc('hour', sent_at, 'UTC'), 0, count(*), 0, 0, 0, 0
    FROM usernotices GROUP BY 1, 2
    UNION ALL
    SELECT channel_id, date_trunc('hour', created_at, 'UTC'), 0, 0, count(*),
           count(*) FILTER (WHERE action = 'delete'), count(*) FILTER (WHERE action = 'ban'),
           count(*) FILTER (WHERE action = 'timeout')
    FROM mod_actions GROUP BY 1, 2
) AS x
GROUP BY channel_id, hour
"""

USER_CHANNEL_SQL = """
INSERT INTO user_channel_stats (user_id, channel_id, messages, first_seen_at, last_seen_at)
SELECT user_id, channel_id, count(*), min(sent_at), max(sent_at)
FROM messages WHERE user_id IS NOT NULL GROUP BY user_id, channel_id
"""

USER_NAMES_SQL = """
INSERT INTO user_names (user_id, login, first_seen_at, last_seen_at)
SELECT user_id, user_login, min(sent_at), max(sent_at)
FROM messages WHERE user_id IS NOT NULL GROUP BY user_id, user_login
"""

USERS_SQL = """
INSERT INTO users (id, login, display_name, first_seen_at, last_seen_at, message_count)
SELECT s.user_id, n.login, b.display_name, s.first_at, s.last_at, s.messages
FROM (SELECT user_id, min(first_seen_at) AS first_at, max(last_seen_at) AS last_at,
             sum(messages) AS messages
      FROM user_channel_stats GROUP BY user_id) AS s
JOIN LATERAL (SELECT login FROM user_names WHERE user_id = s.user_id
              ORDER BY last_seen_at DESC LIMIT 1) AS n ON true
JOIN bench_users AS b ON b.id = s.user_id
"""

CHANNELS_SQL = """
UPDATE channels AS c SET first_seen_at = x.first_at, last_seen_at = x.last_at
FROM (SELECT channel_id, min(hour) AS first_at, max(hour) + interval '59 minutes' AS last_at
      FROM channel_hourly_stats GROUP BY channel_id) AS x
WHERE x.channel_id = c.id;

INSERT INTO coverage_gaps (id, channel_id, channel, gap_from, gap_to, reason)
SELECT 'gap-' || c.id || '-' || k, c.id, c.login,
       now() - (k * 40 + c.id) * interval '1 day',
       now() - (k * 40 + c.id) * interval '1 day' + (10 + c.id) * interval '1 minute',
       (ARRAY['connection_lost', 'not_joined', 'reconnect'])[1 + k % 3]
FROM channels AS c, generate_series(1, 3) AS k;
"""


async def ensure(server: str, variant: Variant, *, rebuild: bool = False) -> str:
    """Build the variant unless a complete copy exists; its URL."""
    if rebuild or not await is_complete(server, variant):
        print(
            f"building {variant.database}: {variant.messages:,} messages, "
            f"{variant.users:,} users, {variant.channels} channels",
            file=sys.stderr,
        )
        started = time.monotonic()
        await build(server, variant)
        print(f"built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return with_database(server, variant.database)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 1M-message variant")
    parser.add_argument("--rebuild", action="store_true", help="drop and build again")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="server to build on")
    args = parser.parse_args()
    variant = VARIANTS["1m" if args.quick else "10m"]
    url = asyncio.run(ensure(args.database_url, variant, rebuild=args.rebuild))
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
