"""twitch_archive.migrate against a real PostgreSQL: apply once, lock, refuse edited history."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from twitch_archive.errors import MigrationError
from twitch_archive.migrate import default_schema_dir, load_migrations, migrate, run_cli

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


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_server_url(), timeout=2)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def server() -> None:
    """Skip (fail under CI=true) when no PostgreSQL answers."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = (
            f"PostgreSQL not reachable ({exc}); start it: uv run python scripts/services.py start"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def fresh_db_url(server: None) -> Iterator[str]:
    """The URL of a scratch database that does not exist yet; dropped after the test."""
    name = f"scratch_migrate_{os.getpid()}_{secrets.token_hex(3)}"
    yield _server_url(name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url)


async def test_migrate_creates_database_and_applies_everything(fresh_db_url: str) -> None:
    """A first run creates the database, applies every file once and records name and sha256."""
    lines: list[str] = []
    applied = await migrate(fresh_db_url, REPO_SCHEMA, log=lines.append)

    expected = [m.version for m in load_migrations(REPO_SCHEMA)]
    assert applied == expected
    assert "applied 0001_init" in lines
    conn = await _connect(fresh_db_url)
    try:
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        recorded = {row["version"]: (row["name"], row["checksum"]) for row in rows}
        digest = hashlib.sha256((REPO_SCHEMA / "0001_init.sql").read_bytes()).hexdigest()
        assert recorded["0001"] == ("init", digest)
        assert len(recorded) == len(expected)
        months = await conn.fetchval(
            """
            SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'messages'::regclass AND c.relname IN (
                to_char(now() AT TIME ZONE 'UTC', '"messages_y"YYYY"m"MM'),
                to_char((date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month'),
                        '"messages_y"YYYY"m"MM'))
            """
        )
        assert months == 2
    finally:
        await conn.close()


async def test_second_run_applies_nothing(fresh_db_url: str) -> None:
    """Running migrate again on an up-to-date database applies nothing and changes nothing."""
    await migrate(fresh_db_url, REPO_SCHEMA)
    lines: list[str] = []

    assert await migrate(fresh_db_url, REPO_SCHEMA, log=lines.append) == []
    assert lines == []


async def test_concurrent_migrations_apply_once(fresh_db_url: str) -> None:
    """Two replicas migrating a missing database at once both succeed; each file is applied once."""
    results = await asyncio.gather(
        migrate(fresh_db_url, REPO_SCHEMA), migrate(fresh_db_url, REPO_SCHEMA)
    )

    versions = sorted(path.name.split("_", 1)[0] for path in REPO_SCHEMA.glob("*.sql"))
    assert len(versions) >= 2
    assert sorted(results, key=len) == [[], versions]
    conn = await _connect(fresh_db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(versions)
    finally:
        await conn.close()


async def test_changed_checksum_is_refused(fresh_db_url: str, tmp_path: Path) -> None:
    """Editing an applied file makes migrate refuse, naming the file."""
    folder = tmp_path / "schema"
    shutil.copytree(REPO_SCHEMA, folder)
    await migrate(fresh_db_url, folder)
    with (folder / "0001_init.sql").open("a") as sql:
        sql.write("\n-- an innocent-looking edit\n")

    with pytest.raises(MigrationError, match=r"0001_init\.sql changed after it was applied"):
        await migrate(fresh_db_url, folder)


async def test_missing_applied_file_is_refused(fresh_db_url: str, tmp_path: Path) -> None:
    """A recorded version whose file disappeared is refused, naming the file."""
    folder = _write(
        tmp_path / "schema",
        {"0001_init.sql": "CREATE TABLE a (id int);", "0002_more.sql": "CREATE TABLE b (id int);"},
    )
    await migrate(fresh_db_url, folder)
    (folder / "0002_more.sql").unlink()

    with pytest.raises(MigrationError, match=r"0002_more\.sql was applied .* missing"):
        await migrate(fresh_db_url, folder)


async def test_file_older_than_applied_is_refused(fresh_db_url: str, tmp_path: Path) -> None:
    """A new file numbered below the newest applied one is refused rather than run out of order."""
    folder = _write(
        tmp_path / "schema",
        {"0001_init.sql": "CREATE TABLE a (id int);", "0003_late.sql": "CREATE TABLE c (id int);"},
    )
    await migrate(fresh_db_url, folder)
    _write(folder, {"0002_merged_late.sql": "CREATE TABLE b (id int);"})

    with pytest.raises(MigrationError, match=r"0002_merged_late\.sql is older than the applied"):
        await migrate(fresh_db_url, folder)


async def test_new_file_is_applied_after_the_others(fresh_db_url: str, tmp_path: Path) -> None:
    """Adding 0002 to an applied 0001 applies only 0002."""
    folder = _write(tmp_path / "schema", {"0001_init.sql": "CREATE TABLE a (id int);"})
    assert await migrate(fresh_db_url, folder) == ["0001"]
    _write(folder, {"0002_more.sql": "CREATE TABLE b (id int);"})

    assert await migrate(fresh_db_url, folder) == ["0002"]


async def test_failed_migration_rolls_back_and_names_file(
    fresh_db_url: str, tmp_path: Path
) -> None:
    """A failing file rolls back entirely, is not recorded, and the error names file and line."""
    folder = _write(
        tmp_path / "schema",
        {
            "0001_init.sql": "CREATE TABLE a (id int);",
            "0002_broken.sql": "CREATE TABLE b (id int);\n\nSELEC 1;\n",
        },
    )

    with pytest.raises(MigrationError, match=r"0002_broken\.sql line 3: syntax error"):
        await migrate(fresh_db_url, folder)
    conn = await _connect(fresh_db_url)
    try:
        assert await conn.fetchval("SELECT array_agg(version) FROM schema_migrations") == ["0001"]
        assert await conn.fetchval("SELECT to_regclass('b')") is None
    finally:
        await conn.close()


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    """A .sql file outside the NNNN_name.sql pattern is refused instead of silently skipped."""
    folder = _write(tmp_path / "schema", {"0001_init.sql": "", "002-typo.sql": ""})

    with pytest.raises(MigrationError, match=r"002-typo\.sql"):
        load_migrations(folder)


def test_default_schema_dir_finds_the_repository_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SCHEMA_DIR the repository's schema/ folder is found by walking up."""
    monkeypatch.delenv("SCHEMA_DIR", raising=False)

    assert default_schema_dir() == REPO_SCHEMA


def test_schema_dir_env_must_hold_migrations(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SCHEMA_DIR wins when set, and a folder without 0001_init.sql is a clear error."""
    monkeypatch.setenv("SCHEMA_DIR", str(tmp_path))
    with pytest.raises(MigrationError, match="SCHEMA_DIR"):
        default_schema_dir()

    _write(tmp_path, {"0001_init.sql": ""})
    assert default_schema_dir() == tmp_path


def test_cli_reports_applied_then_up_to_date(
    fresh_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI prints each applied file, then that the schema is up to date; exit 0 both times."""
    assert run_cli(fresh_db_url, REPO_SCHEMA) == 0
    assert "applied 0001_init" in capsys.readouterr().out

    assert run_cli(fresh_db_url, REPO_SCHEMA) == 0
    count = len(load_migrations(REPO_SCHEMA))
    assert f"schema up to date ({count} migration" in capsys.readouterr().out


def test_cli_unreachable_database_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unreachable server gives exit status 1 and a single line on stderr."""
    status = run_cli("postgresql://postgres@127.0.0.1:1/nothing", REPO_SCHEMA)

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("migrate: ")
    assert err.count("\n") == 1
