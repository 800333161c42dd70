"""Fixtures of the api's integration tests: a database seeded through the writer's own store,
settings on the run's Redis and NATS namespace, and Litestar test clients."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry

from archive_api.app import create_app
from archive_api.settings import ApiSettings
from archive_writer.rows import MESSAGES, MOD_ACTIONS, USERNOTICES, row_for
from archive_writer.store import Store
from twitch_archive.db import create_pool
from twitch_archive.events import Badge, ChatEvent, Emote, Message, ModAction, UserNotice
from twitch_archive.settings import Secret
from twitch_archive.subjects import Names

ADMIN_TOKEN = "s3cret-admin-token"
NOW_MS = int(time.time() * 1000)
DAY_MS = 86_400_000

TEXTS = (
    "hello world Kappa",
    "привет мир как дела",
    "こんにちは 世界",
    "danke schön für alles",
    "lol that was close lol",
    "gg wp everyone",
    "I'm so happy 😂 lol",
    "Hola amigo, ¿qué tal?",
)


@dataclass
class Seed:
    """What the seeded database holds, for the tests' expectations."""

    channels: dict[str, int] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    actions: list[ModAction] = field(default_factory=list)


def at(ts_ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ts_ms)


class Builder:
    """Realistic events with unique ids."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def next_id(self) -> str:
        return f"evt-{next(self._ids):06d}"

    def message(
        self, channel: str, room: str, ts: int, user: tuple[str, str], text: str
    ) -> Message:
        return Message(
            id=self.next_id(),
            channel=channel,
            channel_id=room,
            ts=ts,
            user_id=user[0],
            user_login=user[1],
            display_name=user[1].title(),
            text=text,
            badges=(Badge(name="subscriber", version="12"),),
            emotes=(Emote(id="25", start=12, end=16),) if text.endswith("Kappa") else (),
            color="#1E90FF",
        )


ROOMS = {"alpha": "1001", "beta": "1002", "gamma": "1003"}
USERS = {
    "viewer_one": ("501", "viewer_one"),
    "viewer_two": ("502", "viewer_two"),
    "old_name": ("503", "old_name"),
    "new_name": ("503", "new_name"),
    "chatter": ("504", "chatter"),
}


def build_events() -> tuple[list[ChatEvent], Seed]:
    """About 200 messages over the last 40 days in three channels (two months' partitions),
    deletions, bans, timeouts, an unban, user notices, and a user renamed half way."""
    b = Builder()
    seed = Seed()
    events: list[ChatEvent] = []
    start = NOW_MS - 40 * DAY_MS
    plan = [("alpha", 120), ("beta", 60), ("gamma", 20)]
    n = 0
    for channel, count in plan:
        for i in range(count):
            ts = start + (n * 40 * DAY_MS) // 200 + i
            n += 1
            who = ["viewer_one", "viewer_two", "chatter", "old_name" if n < 100 else "new_name"][
                i % 4
            ]
            message = b.message(channel, ROOMS[channel], ts, USERS[who], TEXTS[i % len(TEXTS)])
            events.append(message)
            seed.messages.append(message)
    alpha = [m for m in seed.messages if m.channel == "alpha"]
    for target in (alpha[3], alpha[40], alpha[100]):
        action = ModAction(
            id=b.next_id(),
            channel="alpha",
            channel_id=ROOMS["alpha"],
            ts=target.ts + 2000,
            action="delete",
            target_user_login=target.user_login,
            target_message_id=target.id,
            message_text=target.text,
        )
        events.append(action)
        seed.actions.append(action)
        seed.deleted.add(target.id)
    for spec in (
        ("alpha", "ban", "502", "viewer_two", None, None, -5 * DAY_MS),
        ("alpha", "unban", "502", "viewer_two", None, None, -4 * DAY_MS),
        ("beta", "timeout", "501", "viewer_one", 600, None, -3 * DAY_MS),
        ("beta", "timeout", "501", "viewer_one", 60, "mod_a", -2 * DAY_MS),
        ("alpha", "clear", None, None, None, None, -1 * DAY_MS),
    ):
        channel, kind, uid, login, duration, moderator, offset = spec
        action = ModAction(
            id=b.next_id(),
            channel=channel,
            channel_id=ROOMS[channel],
            ts=NOW_MS + offset,
            action=kind,
            target_user_id=uid,
            target_user_login=login,
            duration_s=duration,
            moderator_id="777" if moderator else None,
            moderator_login=moderator,
            reason="spam" if kind == "ban" else None,
        )
        events.append(action)
        seed.actions.append(action)
    events.append(
        UserNotice(
            id=b.next_id(),
            channel="alpha",
            channel_id=ROOMS["alpha"],
            ts=NOW_MS - DAY_MS,
            notice_type="resub",
            user_id="501",
            user_login="viewer_one",
            system_msg="viewer_one subscribed for 3 months!",
            params={"cumulative-months": "3"},
        )
    )
    return events, seed


async def seed_database(url: str) -> Seed:
    """Store the fixture events with the writer's own Store (its COPY + set-based insert and
    rollups), add coverage gaps, and make `gamma` inactive."""
    events, seed = build_events()
    pool = await create_pool(url, max_size=2, application_name="api-tests")
    store = Store(url, pool, timeout_s=30)
    try:
        batches: dict[int, list[Any]] = {MESSAGES: [], USERNOTICES: [], MOD_ACTIONS: []}
        for event in events:
            channel_id = await store.channels.resolve(event.channel, event.channel_id)
            seed.channels[event.channel] = channel_id
            kind, row = row_for(event, channel_id)
            batches[kind].append(row)
        # Two batches, so the rename and the deletions cross a batch boundary like in real life.
        half = len(batches[MESSAGES]) // 2
        await store.write(batches[MESSAGES][:half], [], [])
        await store.write(batches[MESSAGES][half:], batches[USERNOTICES], batches[MOD_ACTIONS])
        await pool.execute("UPDATE channels SET is_active = false WHERE login = 'gamma'")
        await pool.executemany(
            "INSERT INTO coverage_gaps (id, channel_id, channel, gap_from, gap_to, reason) "
            "VALUES ($1, $2, 'alpha', $3, $4, $5)",
            [
                ("gap-1", seed.channels["alpha"], at(NOW_MS - 10 * DAY_MS),
                 at(NOW_MS - 10 * DAY_MS + 600_000), "connection_lost"),
                ("gap-2", seed.channels["alpha"], at(NOW_MS - 3_600_000), None, "not_joined"),
            ],
        )  # fmt: skip
    finally:
        await store.close()
        await pool.close()
    return seed


@pytest.fixture
async def seed(pg_url: str) -> Seed:
    """The test's database, seeded."""
    return await seed_database(pg_url)


@pytest.fixture
def make_settings(
    pg_url: str, redis_url: str, nats_url: str, names: Names, redis_prefix: str
) -> Callable[..., ApiSettings]:
    """Settings of an api on this test's database, the run's Redis prefix and NATS namespace;
    keyword arguments override any field."""
    own_prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    own_ns = f"{names.ns}a{secrets.token_hex(3)}."

    def build(**overrides: Any) -> ApiSettings:
        values: dict[str, Any] = {
            "database_url": pg_url,
            "redis_url": redis_url,
            "nats_url": nats_url,
            "nats_namespace": own_ns,
            "redis_prefix": own_prefix,
            "admin_token": Secret(ADMIN_TOKEN),
            "rate_limit_per_minute": 0,
            "cache_ttl_s": 0,
            "db_pool_min": 1,
            "db_pool_max": 4,
        }
        values.update(overrides)
        return ApiSettings(**values)

    return build


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """`async with make_client(settings) as client`: an app on its own metrics registry."""

    def build(settings: ApiSettings) -> AsyncTestClient[Litestar]:
        return AsyncTestClient(create_app(settings, registry=CollectorRegistry()))

    return build


@pytest.fixture
async def client(
    seed: Seed, make_settings: Callable[..., ApiSettings], make_client: Callable[..., Any]
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client of an api on the seeded database (rate limit and cache off)."""
    async with make_client(make_settings()) as test_client:
        yield test_client


@pytest.fixture
def sql(pg_url: str) -> Callable[..., Any]:
    """`await sql(query, *args)`: rows of a query on the test's database."""

    async def run(query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(pg_url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return run
