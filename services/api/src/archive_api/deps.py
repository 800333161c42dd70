"""What handlers get injected: the request context (pool, caches, Redis, NATS) and resolvers
that turn `?channel=` and `{username}` into ids, answering 400/404 that name the parameter."""

# SQL here is assembled from constant fragments; every value travels as a $n parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Final

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency

from archive_api.cache import Cache, Memo, RedisGuard
from archive_api.desired import DesiredSet
from archive_api.errors import InvalidParameterError, NotFoundError, UnavailableError
from archive_api.metrics import ApiMetrics
from archive_api.queries import messages as message_queries
from archive_api.ratelimit import RateLimiter
from archive_api.settings import ApiSettings

LOGIN: Final = re.compile(r"[a-z0-9_]{1,25}")
USER_ID: Final = re.compile(r"[0-9A-Za-z_-]{1,64}")
DIRECTORY_TTL_S: Final = 30.0
BOUNDS_TTL_S: Final = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class ChannelRef:
    id: int
    """Database key: joins and filters only, never on the wire."""
    login: str
    twitch_id: str | None
    """The Twitch room id: what items call `channelId` (null until a line carried it)."""


class ChannelDirectory:
    """Channel id <-> login and room id, cached per process (channels are few), refreshed every
    30 s and on any miss, so a channel added a moment ago is found at once."""

    def __init__(self) -> None:
        self._by_id: dict[int, ChannelRef] = {}
        self._by_login: dict[str, ChannelRef] = {}
        self._loaded = 0.0

    async def refresh(self, db: Any) -> None:
        rows = await db.fetch("SELECT id, login, twitch_id FROM channels")
        refs = [ChannelRef(row["id"], row["login"], row["twitch_id"]) for row in rows]
        self._by_id = {ref.id: ref for ref in refs}
        self._by_login = {ref.login: ref for ref in refs}
        self._loaded = time.monotonic()

    def _stale(self) -> bool:
        return time.monotonic() - self._loaded > DIRECTORY_TTL_S

    @staticmethod
    def _unknown(channel_id: int) -> ChannelRef:
        return ChannelRef(channel_id, f"#{channel_id}", None)

    async def ref(self, db: Any, channel_id: int) -> ChannelRef:
        """The channel with database key `channel_id`."""
        ref = self._by_id.get(channel_id)
        if ref is None or self._stale():
            await self.refresh(db)
            ref = self._by_id.get(channel_id)
        return ref or self._unknown(channel_id)

    async def refs(self, db: Any, ids: set[int]) -> dict[int, ChannelRef]:
        """The channels with these database keys, in one refresh at most."""
        if self._stale() or not ids <= self._by_id.keys():
            await self.refresh(db)
        return {i: self._by_id.get(i) or self._unknown(i) for i in ids}

    async def resolve(self, db: Any, parameter: str, value: str) -> ChannelRef:
        """The channel named `value` (a login, `#` and case forgiven); 404 naming `parameter`."""
        login = normalise_login(parameter, value)
        if self._stale() or login not in self._by_login:
            await self.refresh(db)
        ref = self._by_login.get(login)
        if ref is None:
            raise NotFoundError(f"{parameter}: no channel named {login!r} in the archive")
        return ref


def normalise_login(parameter: str, value: str) -> str:
    """A Twitch login from user input: trimmed, `#`/`@` dropped, lowercased, validated."""
    login = value.strip().lstrip("#@").lower()
    if LOGIN.fullmatch(login) is None:
        raise InvalidParameterError(
            parameter, f"{value[:40]!r} is not a Twitch login (1-25 of a-z, 0-9, _)"
        )
    return login


@dataclasses.dataclass(frozen=True, slots=True)
class UserRef:
    id: str
    login: str
    display_name: str | None
    first_seen: datetime
    last_seen: datetime
    message_count: int


_USER_COLUMNS = "id, login, display_name, first_seen_at, last_seen_at, message_count"


def _user(row: asyncpg.Record) -> UserRef:
    return UserRef(
        row["id"],
        row["login"],
        row["display_name"],
        row["first_seen_at"],
        row["last_seen_at"],
        row["message_count"],
    )


async def resolve_user(db: Any, parameter: str, value: str) -> UserRef:
    """A user by login (current first, then any past login: newest holder wins) or by Twitch
    id with `id:12345`; 404 naming `parameter`."""
    text = value.strip()
    if text[:3].lower() == "id:":
        user_id = text[3:]
        if USER_ID.fullmatch(user_id) is None:
            raise InvalidParameterError(parameter, f"{user_id[:40]!r} is not a Twitch user id")
        row = await db.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id)
        if row is None:
            raise NotFoundError(f"{parameter}: no user with Twitch id {user_id!r}")
        return _user(row)
    login = normalise_login(parameter, text)
    row = await db.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM users WHERE login = $1 ORDER BY last_seen_at DESC LIMIT 1",
        login,
    )
    if row is None:
        row = await db.fetchrow(
            f"SELECT {', '.join('u.' + c.strip() for c in _USER_COLUMNS.split(','))} "
            "FROM user_names AS n JOIN users AS u ON u.id = n.user_id "
            "WHERE n.login = $1 ORDER BY n.last_seen_at DESC LIMIT 1",
            login,
        )
    if row is None:
        raise NotFoundError(f"{parameter}: no user {login!r} in the archive")
    return _user(row)


class Bounds:
    """(oldest, newest) message times, cached for a few seconds: where search windows start."""

    def __init__(self) -> None:
        self._value: tuple[datetime, datetime] | None = None
        self._loaded = 0.0

    async def get(self, db: Any) -> tuple[datetime, datetime] | None:
        if self._value is None or time.monotonic() - self._loaded > BOUNDS_TTL_S:
            self._value = await message_queries.data_bounds(db)
            self._loaded = time.monotonic()
        return self._value


@dataclasses.dataclass
class Context:
    """Everything a handler may use; built by `app.create_app`, opened by its lifespan."""

    settings: ApiSettings
    metrics: ApiMetrics
    redis: RedisGuard
    cache: Cache
    limiter: RateLimiter
    desired: DesiredSet
    exports: asyncio.Semaphore
    channels: ChannelDirectory = dataclasses.field(default_factory=ChannelDirectory)
    bounds: Bounds = dataclasses.field(default_factory=Bounds)
    counts: Memo = dataclasses.field(default_factory=lambda: Memo(10.0))
    """Capped totals per filter (replaced by one with CACHE_TTL_S in build_context)."""
    words: Memo = dataclasses.field(default_factory=lambda: Memo(3600.0))
    """The lexemes of search queries (they never change)."""
    rates: Memo = dataclasses.field(default_factory=lambda: Memo(60.0))
    """Messages per hour lately, per channel and overall: sizes search's first window."""
    _pool: Any = None
    """The custom-plan pool (typed Any: Litestar evaluates these annotations at run time)."""
    _pages: Any = None
    """The generic-plan pool."""

    @property
    def pool(self) -> FairPool:
        """Queries planned for their values: everything but the keyset pages of messages."""
        return _opened(self._pool)

    @pool.setter
    def pool(self, pool: FairPool | None) -> None:
        self._pool = pool

    @property
    def pages(self) -> FairPool:
        """Keyset pages, capped counts and look-ups of messages without full-text search: one
        generic plan per statement (see `app.open_pool`)."""
        return _opened(self._pages)

    @pages.setter
    def pages(self, pool: FairPool | None) -> None:
        self._pages = pool

    def pools(self) -> dict[str, FairPool]:
        """The open pools by plan mode (for health checks and metrics)."""
        found = {"custom": self._pool, "generic": self._pages}
        return {name: pool for name, pool in found.items() if pool is not None}


def _opened(pool: FairPool | None) -> FairPool:
    if pool is None:
        raise UnavailableError("the database pool is not open yet")
    return pool


def provide_context(state: State) -> Context:
    """The `ctx` dependency."""
    ctx: Context = state.ctx
    return ctx


class FairPool:
    """The pool behind a FIFO semaphore of its size.

    asyncpg's pool hands a released connection to whichever coroutine asks first, so under
    load a request that was already waiting can lose it again and again (asyncio.Queue lets
    newcomers barge in): the p95 latency was seven times the median. The semaphore (fair since
    Python 3.11) queues requests in arrival order instead, and the pool itself never waits.
    """

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.raw = pool
        self._slots = asyncio.Semaphore(pool.get_max_size())

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self._slots:
            return await self.raw.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self._slots:
            return await self.raw.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self._slots:
            return await self.raw.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        async with self._slots:
            return await self.raw.execute(sql, *args)

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        async with self._slots, self.raw.acquire() as conn:
            yield conn


Ctx = NamedDependency[Context]
"""How handlers ask for the context: `ctx: Ctx`."""
