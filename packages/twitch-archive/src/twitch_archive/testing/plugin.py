"""The pytest plugin (`-p twitch_archive.testing.plugin`): real servers, isolated per run.

Fixtures, by server (session-wide ones are sync and use `asyncio.run`, so no loop crosses tests):

    run_names     session  RunNames: run id, database / namespace / key prefix of this run
    servers       session  Servers: resolves each server once, stops containers it started
    pg_server_url session  str: the PostgreSQL server (its database part is not used)
    pg_template   session  str: name of this run's migrated template database
    pg_url        function str: URL of a fresh database cloned from the template, dropped after
    pg            function asyncpg.Connection to `pg_url`
    pg_pool       function asyncpg.Pool on `pg_url`
    nats_url      session  str: the NATS server; this run's streams and KV buckets go at the end
    names         session  subjects.Names in this run's namespace `t<runid>.`
    nc            function nats.aio.client.Client, drained after
    js            function its JetStreamContext
    redis_url     session  str: the Redis server; this run's keys go at the end (SCAN + UNLINK)
    redis_prefix  session  str: `test:<runid>:`, the prefix of every key a test writes
    redis         function redis.asyncio.Redis
    tcp_proxy     function factory: `await tcp_proxy(url) -> TcpProxy`, closed after

Tests using a server's fixtures get its marker (`postgres`, `nats`, `redis`), so
`-m "not postgres and not nats and not redis"` selects the pure unit tests.
"""

# The client libraries (asyncpg, nats, redis) take most of a second to import, and this module is
# loaded by every pytest run, unit tests included: they are imported inside the fixtures.
# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

import pytest

from twitch_archive.subjects import Names
from twitch_archive.testing.names import RunNames, database_started_at, is_test_stream
from twitch_archive.testing.proxy import TcpProxy
from twitch_archive.testing.services import Servers

if TYPE_CHECKING:
    import asyncpg
    from nats.aio.client import Client as NatsClient
    from nats.js import JetStreamContext
    from redis.asyncio import Redis

STALE_AFTER: Final = timedelta(days=1)
"""Test databases and streams older than this were left by a crashed run and are swept."""
CONNECT_TIMEOUT_S: Final = 10.0

MARKERS: Final = {
    "postgres": frozenset({"pg_server_url", "pg_template", "pg_url", "pg", "pg_pool"}),
    "nats": frozenset({"nats_url", "nc", "js"}),
    "redis": frozenset({"redis_url", "redis"}),
}
"""Which fixtures put which marker on a test (fixturenames include indirect ones)."""

ProxyFactory = Callable[[str], Awaitable[TcpProxy]]


def pytest_configure(config: pytest.Config) -> None:
    """Register the server markers, so `--strict-markers` accepts them outside this repository."""
    for marker in MARKERS:
        config.addinivalue_line("markers", f"{marker}: needs a real {marker} server")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects, so the markers can select
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the servers its fixtures need."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in MARKERS.items():
            if used & fixtures and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


# ---------------------------------------------------------------------------- run and servers


@pytest.fixture(scope="session")
def run_names() -> RunNames:
    """The names this run owns on the shared servers."""
    return RunNames.new()


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """Each real server, resolved once; containers started for the session stop at its end."""
    found = Servers()
    yield found
    found.close()


# ---------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def pg_server_url(servers: Servers) -> str:
    """The PostgreSQL server's URL (tests get their own databases on it)."""
    return servers.require("postgres")


@pytest.fixture(scope="session")
def pg_template(
    pg_server_url: str, run_names: RunNames, pytestconfig: pytest.Config
) -> Iterator[str]:
    """This run's migrated template database; every database of the run is dropped at the end."""
    from twitch_archive.migrate import migrate

    asyncio.run(sweep_stale_databases(pg_server_url, now=time.time()))
    template = run_names.template_database
    try:
        asyncio.run(create_database(pg_server_url, template))
        schema = pytestconfig.rootpath / "schema"
        asyncio.run(
            migrate(with_database(pg_server_url, template), schema if schema.is_dir() else None)
        )
        yield template
    finally:
        asyncio.run(drop_run_databases(pg_server_url, run_names.database_prefix))


@pytest.fixture(scope="session")
def _pg_numbers() -> Iterator[int]:
    """1, 2, 3, ...: numbers the run's test databases."""
    return itertools.count(1)


@pytest.fixture
def pg_url(
    pg_server_url: str, pg_template: str, run_names: RunNames, _pg_numbers: Iterator[int]
) -> Iterator[str]:
    """A fresh migrated database for this test alone, cloned from the template, dropped after."""
    name = run_names.test_database(next(_pg_numbers))
    asyncio.run(create_database(pg_server_url, name, template=pg_template))
    try:
        yield with_database(pg_server_url, name)
    finally:
        asyncio.run(drop_databases(pg_server_url, [name]))


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A connection to this test's database, with the same codecs the services' pools install."""
    import asyncpg

    from twitch_archive.db import init_connection

    conn = await asyncpg.connect(pg_url, timeout=CONNECT_TIMEOUT_S)
    try:
        await init_connection(conn)
        yield conn
    finally:
        await conn.close(timeout=CONNECT_TIMEOUT_S)


@pytest.fixture
async def pg_pool(pg_url: str) -> AsyncIterator[asyncpg.Pool[asyncpg.Record]]:
    """A connection pool on this test's database, built like the services build theirs."""
    from twitch_archive.db import create_pool

    pool = await create_pool(pg_url, max_size=4, application_name="tests")
    try:
        yield pool
    finally:
        await pool.close()


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _admin(server_url: str) -> asyncpg.Connection[asyncpg.Record]:
    """A connection for CREATE/DROP DATABASE: the `postgres` database, else the URL's own."""
    import asyncpg

    try:
        return await asyncpg.connect(
            with_database(server_url, "postgres"), timeout=CONNECT_TIMEOUT_S
        )
    except asyncpg.InvalidCatalogNameError:
        return await asyncpg.connect(server_url, timeout=CONNECT_TIMEOUT_S)


async def create_database(server_url: str, name: str, template: str | None = None) -> None:
    """CREATE DATABASE `name`, cloned from `template` if given."""
    conn = await _admin(server_url)
    try:
        clone = f" TEMPLATE {_quote(template)}" if template else ""
        await conn.execute(f"CREATE DATABASE {_quote(name)}{clone}")
    finally:
        await conn.close()


async def drop_databases(server_url: str, names: list[str]) -> list[str]:
    """Drop databases even if something still holds connections to them; returns what stayed."""
    import asyncpg

    kept: list[str] = []
    conn = await _admin(server_url)
    try:
        force = conn.get_server_version().major >= 13
        for name in names:
            if not force:
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    name,
                )
            try:
                await conn.execute(
                    f"DROP DATABASE IF EXISTS {_quote(name)}{' WITH (FORCE)' if force else ''}"
                )
            except asyncpg.InsufficientPrivilegeError:
                # Another user's leftover on a shared server: not ours to drop, and no reason to
                # fail this run.
                kept.append(name)
    finally:
        await conn.close()
    return kept


async def drop_run_databases(server_url: str, prefix: str) -> None:
    """Drop every database whose name starts with `prefix` (one run's)."""
    conn = await _admin(server_url)
    try:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1", prefix
        )
    finally:
        await conn.close()
    await drop_databases(server_url, [row["datname"] for row in rows])


async def sweep_stale_databases(server_url: str, now: float) -> list[str]:
    """Drop test databases a crashed run left more than a day ago; returns what was dropped."""
    conn = await _admin(server_url)
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'archive\\_t%'")
    finally:
        await conn.close()
    cutoff = now - STALE_AFTER.total_seconds()
    stale = [
        row["datname"]
        for row in rows
        if (started := database_started_at(row["datname"])) is not None and started < cutoff
    ]
    kept = await drop_databases(server_url, stale)
    return [name for name in stale if name not in kept]


# ---------------------------------------------------------------------------- NATS


@pytest.fixture(scope="session")
def nats_url(servers: Servers, run_names: RunNames) -> Iterator[str]:
    """The NATS server; stale test streams go at the start, this run's at the end."""
    url = servers.require("nats")
    asyncio.run(delete_streams(url, lambda info: is_stale_test_stream(info, datetime.now(UTC))))
    try:
        yield url
    finally:
        asyncio.run(delete_streams(url, lambda info: run_names.owns_stream(info.config.name)))


@pytest.fixture(scope="session")
def names(run_names: RunNames) -> Names:
    """Every subject, stream and bucket name, in this run's namespace `t<runid>.`."""
    return Names(ns=run_names.nats_namespace)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NatsClient]:
    """A NATS connection, drained after the test."""
    import nats

    client = await nats.connect(nats_url, connect_timeout=CONNECT_TIMEOUT_S)
    try:
        yield client
    finally:
        if not client.is_closed:
            await client.drain()


@pytest.fixture
def js(nc: NatsClient) -> JetStreamContext:
    """The JetStream context of `nc`."""
    return nc.jetstream()


def is_stale_test_stream(info: Any, now: datetime) -> bool:
    created: datetime | None = info.created
    return is_test_stream(info.config.name) and created is not None and created < now - STALE_AFTER


async def delete_streams(url: str, doomed: Callable[[Any], bool]) -> list[str]:
    """Delete the streams (KV buckets included: they are streams `KV_<bucket>`) `doomed` picks."""
    import nats

    client = await nats.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    try:
        jsm = client.jsm()
        infos: list[Any] = []
        while page := await jsm.streams_info(offset=len(infos)):
            infos.extend(page)
        deleted = [info.config.name for info in infos if doomed(info)]
        for name in deleted:
            await jsm.delete_stream(name)
    finally:
        await client.drain()
    return deleted


# ---------------------------------------------------------------------------- Redis


@pytest.fixture(scope="session")
def redis_url(servers: Servers, redis_prefix: str) -> Iterator[str]:
    """The Redis server; this run's keys are unlinked at the end (never FLUSHDB: it is shared)."""
    url = servers.require("redis")
    try:
        yield url
    finally:
        asyncio.run(unlink_prefixed(url, redis_prefix))


@pytest.fixture(scope="session")
def redis_prefix(run_names: RunNames) -> str:
    """`test:<runid>:`, the prefix of every key a test writes."""
    return run_names.redis_prefix


@pytest.fixture(name="redis")
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A Redis client; keys must start with `redis_prefix`."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def unlink_prefixed(url: str, prefix: str) -> int:
    """Unlink every key starting with `prefix`; returns how many."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    unlinked = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                unlinked += await client.unlink(*batch)
                batch.clear()
        if batch:
            unlinked += await client.unlink(*batch)
    finally:
        await client.aclose()
    return unlinked


# ---------------------------------------------------------------------------- faults


@pytest.fixture
async def tcp_proxy() -> AsyncIterator[ProxyFactory]:
    """A factory of started TcpProxy in front of a URL's server; all closed after the test."""
    proxies: list[TcpProxy] = []

    async def start(url: str) -> TcpProxy:
        proxy = TcpProxy.for_url(url)
        await proxy.start()
        proxies.append(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in reversed(proxies):
            await proxy.close()
