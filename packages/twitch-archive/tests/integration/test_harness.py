"""The test harness: real servers, one isolated namespace per run, markers that follow fixtures."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from redis.asyncio import Redis

from twitch_archive.subjects import Names
from twitch_archive.testing import plugin
from twitch_archive.testing.names import RunNames, database_started_at, new_run_id
from twitch_archive.testing.services import (
    SERVERS,
    Server,
    Servers,
    ServerUnavailableError,
    redact,
)

RUN_ID = re.compile(r"[0-9]+[0-9a-f]{6}(?:gw[0-9]+)?")
SCHEMA_DIR = Path(__file__).resolve().parents[4] / "schema"


async def public_tables(conn: asyncpg.Connection[asyncpg.Record]) -> set[str]:
    """The names of the tables in a database's `public` schema."""
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def database_exists(server_url: str, name: str) -> bool:
    """Whether the server has a database called `name`."""
    conn = await asyncpg.connect(plugin.with_database(server_url, "postgres"))
    try:
        found = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await conn.close()
    return bool(found == 1)


# ---------------------------------------------------------------------------- run names


class TestRunNames:
    def test_run_id_is_pid_hex_and_worker(self) -> None:
        """A run id is the pid, 6 hex digits and the xdist worker id, lowercase."""
        assert new_run_id(pid=12345, token="A1B2C3", environ={}) == "12345a1b2c3"
        worker = {"PYTEST_XDIST_WORKER": "gw0"}
        assert new_run_id(pid=12345, token="a1b2c3", environ=worker) == "12345a1b2c3gw0"

    def test_fresh_run_ids_differ(self) -> None:
        """Two runs in the same process still get different ids, from the random digits."""
        assert RUN_ID.fullmatch(new_run_id())
        assert len({new_run_id() for _ in range(20)}) > 1

    def test_unexpected_worker_id_is_rejected(self) -> None:
        """A worker id that could break a name is refused rather than sanitised into a clash."""
        with pytest.raises(ValueError, match="PYTEST_XDIST_WORKER"):
            new_run_id(environ={"PYTEST_XDIST_WORKER": "gw0; drop"})

    def test_derived_names(self) -> None:
        """Database, NATS namespace and Redis prefix all carry the run id."""
        run = RunNames(run_id="12345a1b2c3", started=1_700_000_000)
        assert run.template_database == "archive_t12345a1b2c3_1700000000_tpl"
        assert run.test_database(7) == "archive_t12345a1b2c3_1700000000_7"
        assert run.nats_namespace == "t12345a1b2c3."
        assert run.redis_prefix == "test:12345a1b2c3:"

    def test_database_start_time_is_read_back_only_from_test_names(self) -> None:
        """The sweep reads the start time from our names and never touches any other database."""
        assert database_started_at("archive_t12345a1b2c3_1700000000_tpl") == 1_700_000_000
        assert database_started_at("archive_t12345a1b2c3gw1_1700000000_12") == 1_700_000_000
        assert database_started_at("twitch_archive") is None
        assert database_started_at("archive_tool_1700000000") is None
        assert database_started_at("archive_t12345a1b2c3_tpl") is None

    def test_stream_ownership(self) -> None:
        """A run owns the streams and buckets of its namespace, and nothing else."""
        run = RunNames(run_id="12345a1b2c3", started=1_700_000_000)
        mine = Names(ns=run.nats_namespace)
        other = Names(ns="t99999f0f0f0.")
        assert run.owns_stream(mine.chat_stream)
        assert run.owns_stream(mine.deadletter_stream)
        assert run.owns_stream(f"KV_{mine.channels_bucket}")
        assert not run.owns_stream(other.chat_stream)
        assert not run.owns_stream(Names().chat_stream)
        assert not run.owns_stream(f"KV_{Names().channels_bucket}")

    def test_session_names_fixture_is_namespaced(self, names: Names, run_names: RunNames) -> None:
        """The `names` fixture puts every subject, stream and bucket in this run's namespace."""
        assert RUN_ID.fullmatch(run_names.run_id)
        assert names.ns == f"t{run_names.run_id}."
        assert names.chat_subject("forsen", "message") == f"t{run_names.run_id}.chat.forsen.message"
        assert names.chat_stream == f"T{run_names.run_id.upper()}_CHAT"
        assert names.channels_bucket == f"t{run_names.run_id}_channels"


# ---------------------------------------------------------------------------- finding servers


def fake_servers(
    environ: Mapping[str, str],
    answering: set[tuple[str, int]],
    *,
    docker: bool = False,
) -> tuple[Servers, list[tuple[str, int]], list[str]]:
    """Servers with fake probes, Docker and containers; returns it, the probes and the starts."""
    probes: list[tuple[str, int]] = []
    started: list[str] = []

    def probe(host: str, port: int) -> bool:
        probes.append((host, port))
        return (host, port) in answering

    def start(server: Server) -> tuple[str, Callable[[], None]]:
        started.append(server.kind)
        return f"{server.kind}://container:1", lambda: started.append(f"stop {server.kind}")

    return Servers(environ, probe=probe, docker=lambda: docker, start=start), probes, started


class TestServers:
    def test_explicit_url_comes_first(self) -> None:
        """TEST_DATABASE_URL wins over DATABASE_URL, which wins over the local default."""
        environ = {
            "TEST_DATABASE_URL": "postgresql://u@testdb:5433/x",
            "DATABASE_URL": "postgresql://u@db/x",
        }
        servers, probes, _ = fake_servers(environ, {("testdb", 5433), ("127.0.0.1", 5432)})
        assert servers.url("postgres") == "postgresql://u@testdb:5433/x"
        assert probes == [("testdb", 5433)]

    def test_explicit_url_that_does_not_answer_is_not_replaced(self) -> None:
        """A configured server that is down is reported, never silently swapped for another."""
        servers, _, _ = fake_servers(
            {"NATS_URL": "nats://nats.example:4222"}, {("127.0.0.1", 4222)}
        )
        with pytest.raises(ServerUnavailableError, match=r"NATS_URL=nats://nats\.example:4222"):
            servers.url("nats")

    def test_local_default_port_comes_next(self) -> None:
        """With no URL set, the local default port is probed and used."""
        servers, probes, started = fake_servers({}, {("127.0.0.1", 6379)}, docker=True)
        assert servers.url("redis") == SERVERS["redis"].default_url
        assert probes == [("127.0.0.1", 6379)]
        assert started == []

    def test_docker_comes_last_and_containers_stop_at_close(self) -> None:
        """Only when nothing answers locally is a container started, and close() stops it."""
        servers, _, started = fake_servers({}, set(), docker=True)
        assert servers.url("nats") == "nats://container:1"
        servers.close()
        assert started == ["nats", "stop nats"]

    def test_each_server_is_resolved_once(self) -> None:
        """A session probes each server once, and remembers a failure as well as a success."""
        servers, probes, _ = fake_servers({}, {("127.0.0.1", 5432)})
        for _ in range(3):
            servers.url("postgres")
            with pytest.raises(ServerUnavailableError):
                servers.url("redis")
        assert probes == [("127.0.0.1", 5432), ("127.0.0.1", 6379)]

    def test_missing_server_skips_with_the_command_to_start_it(self) -> None:
        """Outside CI a missing server skips the test and says how to start it."""
        servers, _, _ = fake_servers({}, set())
        with pytest.raises(pytest.skip.Exception, match="Redis not available: start it with"):
            servers.require("redis")

    @pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
    def test_missing_server_fails_under_ci(self, ci: str) -> None:
        """With CI=true a missing server fails the test, so CI cannot go green by skipping."""
        servers, _, _ = fake_servers({"CI": ci}, set())
        with pytest.raises(pytest.fail.Exception, match="PostgreSQL not available"):
            servers.require("postgres")

    def test_passwords_stay_out_of_messages(self) -> None:
        """A URL in a skip message has its password masked."""
        assert redact("postgresql://u:hunter2@db/x") == "postgresql://u:***@db/x"
        assert redact("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


# ---------------------------------------------------------------------------- PostgreSQL


class TestPostgres:
    async def test_database_is_migrated_clone_of_the_template(
        self,
        pg: asyncpg.Connection[asyncpg.Record],
        pg_server_url: str,
        pg_template: str,
        run_names: RunNames,
    ) -> None:
        """A test's database belongs to the run and is a clone of the migrated template."""
        name = await pg.fetchval("SELECT current_database()")
        assert name.startswith(run_names.database_prefix)
        template = await asyncpg.connect(plugin.with_database(pg_server_url, pg_template))
        try:
            template_tables = await public_tables(template)
        finally:
            await template.close()
        tables = await public_tables(pg)
        assert tables == template_tables
        assert {"schema_migrations", "channels", "messages"} <= tables
        applied = await pg.fetchval("SELECT count(*) FROM schema_migrations")
        assert applied == len(list(SCHEMA_DIR.glob("*.sql")))

    @pytest.mark.parametrize("turn", ["first", "second"])
    async def test_each_test_gets_its_own_database(
        self, turn: str, pg: asyncpg.Connection[asyncpg.Record], pg_server_url: str
    ) -> None:
        """Two tests never share a database, and a test's database is dropped after it."""
        name = await pg.fetchval("SELECT current_database()")
        await pg.execute("CREATE TABLE harness_probe (turn text)")  # fails if a database is shared
        await pg.execute("INSERT INTO harness_probe VALUES ($1)", turn)
        seen = SEEN_DATABASES
        assert name not in seen
        for earlier in seen:
            assert not await database_exists(pg_server_url, earlier)
        seen.append(name)

    async def test_pool_uses_the_same_database(
        self, pg: asyncpg.Connection[asyncpg.Record], pg_pool: asyncpg.Pool[asyncpg.Record]
    ) -> None:
        """`pg` and `pg_pool` in one test reach the same database."""
        assert await pg_pool.fetchval("SELECT current_database()") == await pg.fetchval(
            "SELECT current_database()"
        )

    async def test_stale_databases_are_swept(self, pg_server_url: str) -> None:
        """A test database older than a day is dropped by the sweep; a recent one is kept."""
        old = RunNames(run_id="1000fffff0", started=int(time.time()) - 2 * 86_400)
        new = RunNames(run_id="1000fffff1", started=int(time.time()))
        for run in (old, new):
            await plugin.create_database(pg_server_url, run.template_database)
        try:
            dropped = await plugin.sweep_stale_databases(pg_server_url, now=time.time())
            assert old.template_database in dropped
            assert new.template_database not in dropped
            assert not await database_exists(pg_server_url, old.template_database)
            assert await database_exists(pg_server_url, new.template_database)
        finally:
            await plugin.drop_databases(
                pg_server_url, [old.template_database, new.template_database]
            )

    async def test_drop_ends_leftover_connections(self, pg_server_url: str) -> None:
        """Dropping a test database works even while a connection is still open on it."""
        name = RunNames(run_id="1000fffff2", started=int(time.time())).test_database(1)
        await plugin.create_database(pg_server_url, name)
        leftover = await asyncpg.connect(plugin.with_database(pg_server_url, name))
        try:
            assert await plugin.drop_databases(pg_server_url, [name]) == []
            assert not await database_exists(pg_server_url, name)
        finally:
            leftover.terminate()


SEEN_DATABASES: list[str] = []
"""Databases of earlier `test_each_test_gets_its_own_database` runs, shared across the two."""


# ---------------------------------------------------------------------------- NATS


class TestNats:
    async def test_streams_and_buckets_are_namespaced_and_deleted(
        self, js: JetStreamContext, nats_url: str, names: Names, run_names: RunNames
    ) -> None:
        """Streams and KV buckets made from `names` belong to the run and are deleted by cleanup."""
        scoped = Names(ns=f"{names.ns}harness.")
        await js.add_stream(name=scoped.chat_stream, subjects=[scoped.chat_wildcard()])
        await js.create_key_value(bucket=scoped.channels_bucket)
        ack = await js.publish(scoped.chat_subject("forsen", "message"), b"{}")
        assert ack.stream == scoped.chat_stream

        created = {scoped.chat_stream, f"KV_{scoped.channels_bucket}"}
        assert all(run_names.owns_stream(stream) for stream in created)
        deleted = await plugin.delete_streams(nats_url, lambda info: info.config.name in created)
        assert set(deleted) == created
        remaining = {info.config.name for info in await js.streams_info()}
        assert not created & remaining

    def test_only_old_test_streams_are_stale(self) -> None:
        """The start-of-session sweep picks test streams older than a day, never production ones."""
        now = datetime.now(UTC)

        def info(name: str, age: timedelta) -> SimpleNamespace:
            return SimpleNamespace(config=SimpleNamespace(name=name), created=now - age)

        assert plugin.is_stale_test_stream(info("T1234a1b2c3_CHAT", timedelta(days=2)), now)
        assert plugin.is_stale_test_stream(
            info("KV_t1234a1b2c3gw1_channels", timedelta(days=2)), now
        )
        assert not plugin.is_stale_test_stream(info("T1234a1b2c3_CHAT", timedelta(hours=1)), now)
        assert not plugin.is_stale_test_stream(info("CHAT", timedelta(days=30)), now)
        assert not plugin.is_stale_test_stream(info("KV_channels", timedelta(days=30)), now)

    async def test_nc_is_connected(self, nc: NatsClient) -> None:
        """`nc` is a live connection to the resolved server."""
        assert nc.is_connected


# ---------------------------------------------------------------------------- Redis


class TestRedis:
    async def test_prefixed_keys_are_unlinked_and_others_kept(
        self, redis: Redis[bytes], redis_url: str, redis_prefix: str, run_names: RunNames
    ) -> None:
        """Cleanup unlinks exactly the keys under the prefix, and nothing else on the server."""
        assert redis_prefix == f"test:{run_names.run_id}:"
        scoped = f"{redis_prefix}harness:"
        outside = f"{redis_prefix}kept"
        keys: dict[str | bytes, str] = {f"{scoped}{n}": str(n) for n in range(1500)}
        await redis.mset({**keys, outside: "1"})
        try:
            assert await plugin.unlink_prefixed(redis_url, scoped) == 1500
            assert await redis.exists(f"{scoped}0", f"{scoped}1499") == 0
            assert await redis.get(outside) == b"1"
        finally:
            await redis.unlink(outside)


# ---------------------------------------------------------------------------- markers


class TestMarkers:
    def test_marker_follows_fixture(self, request: pytest.FixtureRequest) -> None:
        """A test using no server fixture gets no server marker."""
        assert not any(request.node.get_closest_marker(m) for m in ("postgres", "nats", "redis"))

    async def test_pg_gets_postgres_marker(
        self, request: pytest.FixtureRequest, pg: asyncpg.Connection[asyncpg.Record]
    ) -> None:
        """A test using `pg` is marked `postgres`."""
        assert request.node.get_closest_marker("postgres") is not None

    def test_js_gets_nats_marker(
        self, request: pytest.FixtureRequest, js: JetStreamContext
    ) -> None:
        """A test using `js` is marked `nats`."""
        assert request.node.get_closest_marker("nats") is not None

    async def test_redis_gets_redis_marker(
        self, request: pytest.FixtureRequest, redis: Redis[bytes]
    ) -> None:
        """A test using `redis` is marked `redis`."""
        assert request.node.get_closest_marker("redis") is not None

    def test_unit_selection_deselects_server_tests(self, tmp_path: Path) -> None:
        """`-m "not postgres and not nats and not redis"` runs only tests that need no server."""
        (tmp_path / "test_sample.py").write_text(
            textwrap.dedent(
                """
                import pytest

                @pytest.fixture
                def writer_app(pg_pool):
                    return pg_pool

                def test_pure(): pass
                def test_db(pg): pass
                def test_indirect(writer_app): pass
                def test_bus(js): pass
                def test_cache(redis): pass
                """
            )
        )
        done = subprocess.run(
            [
                sys.executable, "-m", "pytest", "-p", "twitch_archive.testing.plugin",
                "-p", "no:cacheprovider", "--strict-markers", "-q",
                "-o", "asyncio_default_fixture_loop_scope=function",
                "-m", "not postgres and not nats and not redis", str(tmp_path),
            ],
            capture_output=True, text=True, cwd=tmp_path, timeout=50, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 passed, 4 deselected" in done.stdout
