"""Apply the numbered, forward-only `schema/NNNN_name.sql` files to a database, once each.

Every replica may run `twitch-archive migrate` at start-up: a session advisory lock makes the
second one wait, then find nothing left to do. Each file runs in its own transaction and is
recorded in `schema_migrations` with its sha256, so an edited or vanished file is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from twitch_archive.errors import MigrationError

MIGRATION_LOCK_KEY = int.from_bytes(b"archmigr", "big")
"""pg_advisory_lock key held while migrating: the bytes 'archmigr' as a big-endian int8
(7021784069187397490). The same key serialises CREATE DATABASE in the `postgres` database.
The partition function uses its own key, 'archpart' (see schema/0001_init.sql)."""

MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
"""`0001_init.sql`: four digits, an underscore, a lowercase snake_case name."""

FIRST_MIGRATION = "0001_init.sql"

# Kept identical to the statement in 0001_init.sql: the ledger must exist before it is read.
_LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

_PARTITION_FUNCTION = "archive_ensure_message_partition(timestamptz)"
_SESSION = {"application_name": "twitch-archive-migrate"}

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema file: `0001_init.sql` is version '0001', name 'init'."""

    version: str
    name: str
    path: Path
    sql: str
    checksum: str

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"


def default_schema_dir() -> Path:
    """The schema folder: env SCHEMA_DIR, else the first `schema/` with 0001_init.sql above us."""
    configured = os.environ.get("SCHEMA_DIR")
    if configured:
        path = Path(configured)
        if not (path / FIRST_MIGRATION).is_file():
            raise MigrationError(f"SCHEMA_DIR={configured!r} holds no {FIRST_MIGRATION}")
        return path
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "schema"
        if (candidate / FIRST_MIGRATION).is_file():
            return candidate
    raise MigrationError(
        f"no schema/{FIRST_MIGRATION} found above {Path(__file__).resolve().parent}; "
        "set SCHEMA_DIR to the folder holding the NNNN_name.sql files"
    )


def load_migrations(schema_dir: Path) -> list[Migration]:
    """Read and check every `*.sql` file of `schema_dir`, in version order."""
    if not schema_dir.is_dir():
        raise MigrationError(f"schema folder {str(schema_dir)!r} does not exist")
    migrations: dict[str, Migration] = {}
    for path in sorted(schema_dir.glob("*.sql")):
        match = MIGRATION_FILE.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_case_name.sql")
        raw = path.read_bytes()
        try:
            sql = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MigrationError(f"{path.name} is not valid UTF-8: {exc}") from exc
        migration = Migration(
            version=match["version"],
            name=match["name"],
            path=path,
            sql=sql,
            checksum=hashlib.sha256(raw).hexdigest(),
        )
        if (clash := migrations.get(migration.version)) is not None:
            raise MigrationError(
                f"{path.name} and {clash.path.name} share version {migration.version}"
            )
        migrations[migration.version] = migration
    if not migrations:
        raise MigrationError(f"no NNNN_name.sql files in {str(schema_dir)!r}")
    return [migrations[version] for version in sorted(migrations)]


async def migrate(
    database_url: str,
    schema_dir: Path | None = None,
    *,
    log: Log | None = None,
) -> list[str]:
    """Apply the pending migrations and ensure this and next month's message partitions.

    Creates the database first if it does not exist. Returns the versions applied, oldest first
    (empty when the schema was up to date). Raises MigrationError naming the file at fault.
    """
    say = log or _quiet
    folder = schema_dir if schema_dir is not None else default_schema_dir()
    migrations = await asyncio.to_thread(load_migrations, folder)
    conn = await _connect_creating(database_url, say)
    try:
        # Session lock, released when the connection closes even if this process dies.
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(_LEDGER_DDL)
        recorded = {
            row["version"]: (row["name"], row["checksum"])
            for row in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        }
        pending = _pending(migrations, recorded)
        for migration in pending:
            await _apply(conn, migration)
            say(f"applied {migration.label}")
        await _ensure_partitions(conn, say)
    finally:
        await conn.close()
    return [migration.version for migration in pending]


def run_cli(database_url: str, schema_dir: str | Path | None = None) -> int:
    """`twitch-archive migrate`: print what was applied; exit 0, or 1 with a one-line error.

    `schema_dir` (setting SCHEMA_DIR) overrides the folder `default_schema_dir()` would find.
    """

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")

    try:
        folder = Path(schema_dir) if schema_dir else default_schema_dir()
        applied = asyncio.run(migrate(database_url, folder, log=say))
        if not applied:
            total = len(load_migrations(folder))
            say(f"schema up to date ({total} migration{'s' if total != 1 else ''})")
    except MigrationError as exc:
        sys.stderr.write(f"migrate: {exc}\n")
        return 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        sys.stderr.write(f"migrate: {_one_line(exc)} ({type(exc).__name__})\n")
        return 1
    return 0


def _pending(migrations: list[Migration], recorded: dict[str, tuple[str, str]]) -> list[Migration]:
    """The migrations still to apply, after checking the recorded ones against the files."""
    by_version = {migration.version: migration for migration in migrations}
    for version, (name, checksum) in sorted(recorded.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"{version}_{name}.sql was applied to this database but is missing from the "
                "schema folder (migrations are never deleted)"
            )
        if migration.name != name or migration.checksum != checksum:
            raise MigrationError(
                f"{migration.path.name} changed after it was applied (recorded as "
                f"{version}_{name}.sql, sha256 {checksum[:12]}, now {migration.checksum[:12]}); "
                "add a new migration instead of editing an applied one"
            )
    newest = max(recorded, default="")
    pending = [migration for migration in migrations if migration.version not in recorded]
    for migration in pending:
        if migration.version < newest:
            raise MigrationError(
                f"{migration.path.name} is older than the applied {newest}; renumber it after "
                "the newest migration"
            )
    return pending


async def _apply(conn: asyncpg.Connection[Any], migration: Migration) -> None:
    try:
        async with conn.transaction():
            # Without arguments asyncpg uses the simple protocol: a file may hold many statements.
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
    except asyncpg.PostgresError as exc:
        where = _line_of(migration.sql, getattr(exc, "position", None))
        raise MigrationError(f"{migration.path.name}{where}: {_one_line(exc)}") from exc


async def _ensure_partitions(conn: asyncpg.Connection[Any], say: Log) -> None:
    """Create this month's and next month's message partitions (once the function exists)."""
    exists = await conn.fetchval("SELECT to_regprocedure($1) IS NOT NULL", _PARTITION_FUNCTION)
    if not exists:
        return
    now = datetime.now(UTC)
    this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    for month in (this_month, next_month):
        try:
            await conn.execute("SELECT archive_ensure_message_partition($1)", month)
        except asyncpg.LockNotAvailableError:
            # Busy readers held messages_default past the function's lock_timeout. Nothing is
            # lost: rows of that month wait in the default partition until a later call moves them.
            say(f"partition for {month:%Y-%m} not created yet: messages_default is busy")


async def _connect_creating(database_url: str, say: Log) -> asyncpg.Connection[Any]:
    """Connect to the target database, creating it first when it does not exist."""
    try:
        return await asyncpg.connect(database_url, server_settings=_SESSION)
    except asyncpg.InvalidCatalogNameError:
        await _create_database(database_url, say)
    return await asyncpg.connect(database_url, server_settings=_SESSION)


async def _create_database(database_url: str, say: Log) -> None:
    """CREATE DATABASE for the URL's database, from a connection to the `postgres` database."""
    parts = urlsplit(database_url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise MigrationError("the database URL names no database to create")
    admin = await asyncpg.connect(
        urlunsplit(parts._replace(path="/postgres")), server_settings=_SESSION
    )
    try:
        # Two replicas may both find the database missing: one creates it, the other waits.
        await admin.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        found = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not found:
            await admin.execute(f"CREATE DATABASE {_quote_ident(name)}")
            say(f"created database {name}")
    finally:
        await admin.close()


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _line_of(sql: str, position: str | int | None) -> str:
    """' line N' for PostgreSQL's 1-based character position in the statement text, if known."""
    try:
        offset = int(position) if position is not None else 0
    except ValueError:
        offset = 0
    if offset <= 0:
        return ""
    return f" line {sql.count(chr(10), 0, offset - 1) + 1}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _quiet(_line: str) -> None:
    """The default log: migrate says nothing unless given somewhere to say it."""
