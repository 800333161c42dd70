"""`twitch-archive backup` and `restore` against a real PostgreSQL, through the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import msgspec
import pytest

from twitch_archive.backup import backup_once, checksum_path, dumps_in, find_tool
from twitch_archive.errors import BackupError
from twitch_archive.migrate import migrate
from twitch_archive.testing.plugin import drop_databases, with_database

CLI_TIMEOUT_S = 60
APPLICATION = "twitch-archive-backup"
"""pg_dump's application_name in pg_stat_activity."""

# A small archive written through the schema: three channels, fifty users, messages in last
# month's partition, this month's and the default one (a junk timestamp), every other table too.
# Texts carry quotes, tabs, newlines, backslashes and emoji, so a lossy dump would show.
SEED_SQL = """
INSERT INTO channels (login, twitch_id, display_name, first_seen_at, last_seen_at)
VALUES ('alpha', '1001', 'Alpha', now() - interval '40 days', now()),
       ('beta', '1002', 'Beta', now() - interval '40 days', now()),
       ('gamma', NULL, NULL, NULL, NULL);

INSERT INTO users (id, login, display_name, first_seen_at, last_seen_at, message_count)
SELECT 'u' || i, 'user' || i, 'User ' || i, now() - interval '40 days', now(), 60
FROM generate_series(1, 50) AS i;

INSERT INTO user_names (user_id, login, first_seen_at, last_seen_at)
SELECT id, login, first_seen_at, last_seen_at FROM users;

SELECT archive_ensure_message_partition(date_trunc('month', now()) - interval '1 month');
SELECT archive_ensure_message_partition(now());

INSERT INTO messages (sent_at, deleted_at, channel_id, bits, is_action, id, user_id, user_login,
                      display_name, text, color, badges, emotes)
SELECT CASE WHEN i % 500 = 0 THEN timestamptz '1970-01-01 00:00:00+00'
            ELSE date_trunc('month', now()) - interval '20 days' + i * interval '17 minutes' END,
       CASE WHEN i % 97 = 0 THEN now() END,
       1 + i % 2,
       CASE WHEN i % 41 = 0 THEN 100 END,
       i % 13 = 0,
       'm' || i,
       'u' || (1 + i % 50),
       'user' || (1 + i % 50),
       'User ' || (1 + i % 50),
       'message ' || i || E' "quoted" \\\\ tab\\there\\nnew line ✨ Kappa',
       '#1E90FF',
       '[{"name": "subscriber", "version": "12"}]'::jsonb,
       CASE WHEN i % 7 = 0 THEN '[{"id": "25", "start": 0, "end": 4}]'::jsonb ELSE '[]' END
FROM generate_series(1, 3000) AS i;

INSERT INTO mod_actions (id, created_at, channel_id, action, target_user_id, target_user_login,
                         duration_s, target_message_id, reason)
SELECT 'a' || i, now() - i * interval '1 hour', 1 + i % 2,
       (ARRAY['ban', 'timeout', 'delete', 'clear'])[1 + i % 4],
       'u' || (1 + i % 50), 'user' || (1 + i % 50),
       CASE WHEN i % 4 = 1 THEN 600 END,
       CASE WHEN i % 4 = 2 THEN 'm' || i END,
       NULL
FROM generate_series(1, 120) AS i;

INSERT INTO usernotices (id, sent_at, channel_id, notice_type, user_id, user_login, system_msg,
                         params)
SELECT 'n' || i, now() - i * interval '3 hours', 1, 'resub', 'u' || i, 'user' || i,
       'User ' || i || ' subscribed for ' || i || ' months!', jsonb_build_object('months', i)
FROM generate_series(1, 40) AS i;

INSERT INTO channel_hourly_stats (channel_id, hour, messages, mod_actions)
SELECT 1 + i % 2, date_trunc('hour', now()) - i * interval '1 hour', i * 3, i % 5
FROM generate_series(1, 48) AS i;

INSERT INTO user_channel_stats (user_id, channel_id, messages, first_seen_at, last_seen_at)
SELECT id, 1, 60, first_seen_at, last_seen_at FROM users;

INSERT INTO coverage_gaps (id, channel_id, channel, gap_from, gap_to, reason)
VALUES ('g1', 1, 'alpha', now() - interval '2 days', now() - interval '2 days' + interval '30 s',
        'dropped'),
       ('g2', 2, 'beta', now() - interval '1 hour', NULL, 'replica_lost');
"""


@pytest.fixture(scope="module")
def pg_tools() -> None:
    """pg_dump and pg_restore are installed (a failure under CI=true, else a skip)."""
    try:
        find_tool("pg_dump")
        find_tool("pg_restore")
    except BackupError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


async def execute(url: str, sql: str) -> None:
    """Run SQL (several statements allowed) on a database."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def archive_url(pg_url: str, pg_tools: None) -> str:
    """This test's migrated database, filled with SEED_SQL."""
    asyncio.run(execute(pg_url, SEED_SQL))
    return pg_url


@pytest.fixture
def other_url(pg_url: str) -> Iterator[str]:
    """A database name of this run's (not created here), dropped after the test if it was."""
    name = f"{urlsplit(pg_url).path.lstrip('/')}_other"
    url = with_database(pg_url, name)
    yield url
    asyncio.run(drop_databases(url, [name]))


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """Run `twitch-archive ARGS` as an operator would, with DATABASE_URL set."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "info"}
    return subprocess.run(
        [sys.executable, "-m", "twitch_archive.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


async def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the ordered rows of every table, partitions included."""
    conn = await asyncpg.connect(url)
    try:
        tables = [
            row["tablename"]
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        found = {}
        for table in tables:
            rows = "md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
            query = f'SELECT count(*), {rows} FROM ONLY public."{table}" AS t'
            found[table] = tuple(await conn.fetchrow(query))
        found["messages (all partitions)"] = tuple(
            await conn.fetchrow(
                "SELECT count(*), md5(string_agg(m::text, E'\\n' ORDER BY m.id, m.sent_at))"
                " FROM messages AS m"
            )
        )
        return found
    finally:
        await conn.close()


def json_lines(text: str) -> list[dict[str, object]]:
    """The JSON log lines of a process (stderr is not a terminal, so every line is JSON)."""
    return [msgspec.json.decode(line) for line in text.splitlines() if line.startswith("{")]


async def test_backup_then_restore_into_a_new_database_loses_nothing(
    archive_url: str, other_url: str, tmp_path: Path
) -> None:
    """A dump restored into a fresh database has every table's rows, byte for byte."""
    before = await fingerprint(archive_url)
    assert before["messages (all partitions)"][0] == 3000
    assert {"messages_default", "messages", "mod_actions", "coverage_gaps"} <= set(before)

    done = cli("backup", "--dir", str(tmp_path), "--keep", "3", database_url=archive_url)
    assert done.returncode == 0, done.stderr
    [dump] = dumps_in(tmp_path, urlsplit(archive_url).path.lstrip("/"))
    assert checksum_path(dump.path).read_text().endswith(f"  {dump.path.name}\n")
    written = [line for line in json_lines(done.stderr) if line["event"] == "backup_written"]
    assert written[0]["path"] == str(dump.path)

    done = cli("restore", str(dump.path), "--database-url", other_url, database_url=archive_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"restored {dump.path.name} (pg_dump of ")
    assert "into new database" in done.stdout
    assert await fingerprint(other_url) == before
    # A working archive: the migration ledger and the identity sequence came along.
    assert await migrate(other_url) == []
    conn = await asyncpg.connect(other_url)
    try:
        new_id = await conn.fetchval("INSERT INTO channels (login) VALUES ('delta') RETURNING id")
    finally:
        await conn.close()
    assert new_id == 4


async def test_restore_never_overwrites_an_archive(
    archive_url: str, other_url: str, tmp_path: Path
) -> None:
    """A database that holds tables is refused untouched; an empty existing one is used."""
    assert cli("backup", "--dir", str(tmp_path), database_url=archive_url).returncode == 0
    [dump] = dumps_in(tmp_path, urlsplit(archive_url).path.lstrip("/"))
    await execute(archive_url, "DELETE FROM messages WHERE id LIKE 'm1%'")
    before = await fingerprint(archive_url)

    done = cli("restore", str(dump.path), database_url=archive_url)
    assert done.returncode == 1
    assert "already holds" in done.stderr
    assert "restore into a new database" in done.stderr
    assert await fingerprint(archive_url) == before

    other = urlsplit(other_url).path.lstrip("/")
    await execute(archive_url, f'CREATE DATABASE "{other}"')
    done = cli("restore", str(dump.path), "--database-url", other_url, database_url=archive_url)
    assert done.returncode == 0, done.stderr
    assert f"into empty database {other} in " in done.stdout
    assert (await fingerprint(other_url))["messages (all partitions)"][0] == 3000


async def test_pruning_keeps_the_newest_dumps_of_the_database(
    archive_url: str, tmp_path: Path
) -> None:
    """After each backup only the newest N dumps of that database are left, with checksums."""
    database = urlsplit(archive_url).path.lstrip("/")
    foreign = tmp_path / "someother-20200101T000000Z.dump"
    foreign.write_bytes(b"not ours")
    leftover = tmp_path / f".{database}-20200101T000000Z.dump.999.partial"
    leftover.write_bytes(b"a killed run's")
    start = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
    for day in range(4):
        result = await backup_once(
            archive_url, tmp_path, 2, now=lambda day=day: start + timedelta(days=day)
        )
    assert [path.name for path in result.pruned] == [f"{database}-20250302T030000Z.dump"]
    kept = dumps_in(tmp_path, database)
    assert [dump.taken_at.day for dump in kept] == [4, 3]
    assert sorted(path.name for path in await asyncio.to_thread(tmp_path.iterdir)) == sorted(
        [foreign.name]
        + [dump.path.name for dump in kept]
        + [dump.checksum_path.name for dump in kept]
    )


async def test_a_corrupted_dump_is_refused(
    archive_url: str, other_url: str, tmp_path: Path
) -> None:
    """A dump whose bytes changed, or without its checksum, is not restored anywhere."""
    assert cli("backup", "--dir", str(tmp_path), database_url=archive_url).returncode == 0
    [dump] = dumps_in(tmp_path, urlsplit(archive_url).path.lstrip("/"))
    data = bytearray(dump.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.path.write_bytes(bytes(data))

    done = cli("restore", str(dump.path), "--database-url", other_url, database_url=archive_url)
    assert done.returncode == 1
    assert "is corrupt or was changed" in done.stderr
    checksum_path(dump.path).unlink()
    done = cli("restore", str(dump.path), "--database-url", other_url, database_url=archive_url)
    assert done.returncode == 1
    assert f"{dump.path.name}.sha256 is missing" in done.stderr
    dump.path.write_bytes(b"PGDMP but not really")
    done = cli(
        "restore", str(dump.path), "--no-verify", "--database-url", other_url,
        database_url=archive_url,
    )  # fmt: skip
    assert done.returncode == 1
    assert "is not a pg_dump custom-format archive" in done.stderr
    conn = await asyncpg.connect(archive_url)
    try:
        other = urlsplit(other_url).path.lstrip("/")
        assert await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", other) is None
    finally:
        await conn.close()


def test_one_failed_backup_exits_non_zero(other_url: str, pg_tools: None, tmp_path: Path) -> None:
    """A one-shot backup of a database that does not exist says why and exits 1, leaving no file."""
    done = cli("backup", "--dir", str(tmp_path), database_url=other_url)
    assert done.returncode == 1
    [failed] = [line for line in json_lines(done.stderr) if line["event"] == "backup_failed"]
    assert "does not exist" in str(failed["error"])
    assert list(tmp_path.iterdir()) == []


def _run_schedule_until(
    database_url: str, folder: Path, log: Path, event: str, count: int
) -> tuple[int, list[dict[str, object]]]:
    """Start `backup --every 1s --keep 2`, wait for `count` log lines `event`, then SIGTERM it."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "info"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "twitch_archive.cli", "backup", "--dir", str(folder),
             "--keep", "2", "--every", "1s"],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = [line for line in json_lines(log.read_text()) if line["event"] == event]
            if len(seen) >= count:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=CLI_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    return status, json_lines(log.read_text())


def test_a_schedule_backs_up_repeatedly_until_sigterm(archive_url: str, tmp_path: Path) -> None:
    """With --every, backups repeat and are pruned; SIGTERM stops the schedule with status 0."""
    folder = tmp_path / "dumps"
    status, lines = _run_schedule_until(archive_url, folder, tmp_path / "log", "backup_written", 3)
    events = [line["event"] for line in lines]
    assert status == 0
    assert events.count("backup_written") >= 3
    assert "backup_pruned" in events
    assert events[-1] == "backup_stopped"
    dumps = dumps_in(folder, urlsplit(archive_url).path.lstrip("/"))
    assert len(dumps) == 2
    assert all(dump.checksum_path.is_file() for dump in dumps)
    assert not [path for path in folder.iterdir() if path.name.endswith(".partial")]


def test_a_failed_scheduled_backup_is_retried(
    other_url: str, pg_tools: None, tmp_path: Path
) -> None:
    """A scheduled run that fails is logged and tried again on schedule; the process stays up."""
    status, lines = _run_schedule_until(other_url, tmp_path, tmp_path / "log", "backup_failed", 2)
    failures = [line for line in lines if line["event"] == "backup_failed"]
    assert status == 0
    assert len(failures) >= 2
    assert all("does not exist" in str(line["error"]) for line in failures)
    assert dumps_in(tmp_path, urlsplit(other_url).path.lstrip("/")) == []


async def test_sigterm_during_a_dump_stops_pg_dump_and_leaves_no_file(
    archive_url: str, tmp_path: Path
) -> None:
    """SIGTERM while pg_dump runs ends it, removes its partial file and exits 0."""
    blocker = await asyncpg.connect(archive_url)
    watcher = await asyncpg.connect(archive_url)  # outside the transaction: fresh activity
    sessions = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
    env = {**os.environ, "DATABASE_URL": archive_url, "LOG_LEVEL": "info"}
    try:
        # pg_dump waits for this lock, so it is certainly still running when SIGTERM comes.
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE mod_actions IN ACCESS EXCLUSIVE MODE")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "twitch_archive.cli", "backup", "--dir", str(tmp_path),
            "--every", "1h", env=env, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        for _ in range(400):
            if await watcher.fetchval(sessions + " AND wait_event_type = 'Lock'", APPLICATION):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("pg_dump never started waiting for the lock")
        partials = [p for p in await asyncio.to_thread(os.listdir, tmp_path) if ".partial" in p]
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
        assert process.returncode == 0
        events = [line["event"] for line in json_lines(stderr.decode())]
        assert events[-2:] == ["backup_interrupted", "backup_stopped"]
        assert partials, "pg_dump had not opened its file"
        assert await asyncio.to_thread(os.listdir, tmp_path) == []
        for _ in range(100):
            if not await watcher.fetchval(sessions, APPLICATION):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("pg_dump's session outlived the backup process")
        await transaction.rollback()
    finally:
        await blocker.close()
        await watcher.close()
