"""`twitch-archive backup` and `restore`: pg_dump snapshots of the archive, checked and pruned.

A backup is `pg_dump --format=custom`, which reads the whole database in one repeatable-read
transaction, so it is a consistent snapshot while the writers keep inserting. It is written to a
hidden temporary file and renamed into place only once complete, with a `sha256sum`-style
sidecar, so a dump that exists is whole.

A restore checks that checksum first, then runs `pg_restore --no-owner` in a single transaction
into a new or empty database: it restores everything or nothing. It never restores over an
archive: `pg_restore --clean` cannot drop the partitions of `messages` (their primary keys are
inherited), and replacing data in place would leave no way back if the dump turns out wrong. To
replace the live archive, restore next to it and swap the names (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
import structlog

from twitch_archive.errors import BackupError
from twitch_archive.lifecycle import Shutdown
from twitch_archive.logging import configure
from twitch_archive.settings import BackupSettings

log = structlog.get_logger("twitch_archive.backup")

POSTGRES_LIB: Final = Path("/usr/lib/postgresql")
"""Where Debian installs each PostgreSQL major version's binaries (`<major>/bin/pg_dump`)."""
STAMP_FORMAT: Final = "%Y%m%dT%H%M%SZ"
"""UTC time of a dump in its file name: `twitch_archive-20250101T030000Z.dump`."""
CHUNK_BYTES: Final = 1 << 20
APPLICATION_NAME: Final = "twitch-archive-backup"
DURATION: Final = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


# ---------------------------------------------------------------------------- inputs


def parse_duration(text: str) -> float:
    """Seconds in `24h`, `90m`, `1h30m`, `45s` or `7d`; raises BackupError otherwise."""
    match = DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise BackupError(f"invalid duration {text!r}: use a number with d, h, m or s (24h, 90m)")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = days * 86_400 + hours * 3_600 + minutes * 60 + seconds
    if total < 1:
        raise BackupError(f"invalid duration {text!r}: it must be at least 1s")
    return float(total)


def find_tool(name: str, bin_dir: str | None = None) -> Path:
    """pg_dump or pg_restore: in `bin_dir` if given, else on PATH, else the newest
    `/usr/lib/postgresql/<major>/bin` (Debian puts them there without a PATH entry)."""
    if bin_dir:
        candidate = Path(bin_dir) / name
        if os.access(candidate, os.X_OK) and candidate.is_file():
            return candidate
        raise BackupError(f"{name} not found in PG_BIN_DIR={bin_dir}")
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    versions = [
        path
        for path in POSTGRES_LIB.glob(f"*/bin/{name}")
        if path.parent.parent.name.isdigit() and os.access(path, os.X_OK)
    ]
    if versions:
        return max(versions, key=lambda path: int(path.parent.parent.name))
    raise BackupError(
        f"{name} not found on PATH or in {POSTGRES_LIB}/*/bin: install PostgreSQL's client "
        "tools (Debian: postgresql-client-15) or set PG_BIN_DIR"
    )


def database_name(database_url: str) -> str:
    """The database a URL names (`postgresql://host/twitch_archive` -> `twitch_archive`)."""
    name = unquote(urlsplit(database_url).path.lstrip("/"))
    if not name:
        raise BackupError(f"the database URL names no database: {redact(database_url)}")
    return name


def redact(database_url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    userinfo, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}"))


def libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore without its password, and an environment that carries it
    (PGPASSWORD), so the password never shows in the process list."""
    parts = urlsplit(database_url)
    env = {**os.environ, "PGAPPNAME": APPLICATION_NAME}
    if parts.password is None:
        return database_url, env
    env["PGPASSWORD"] = unquote(parts.password)
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host)), env


def file_stem(database: str) -> str:
    """A database name made safe for a file name (`twitch_archive` stays as it is)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", database)


# ---------------------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class Dump:
    """One dump file of a backup folder."""

    path: Path
    taken_at: datetime

    @property
    def checksum_path(self) -> Path:
        return checksum_path(self.path)


def checksum_path(dump: Path) -> Path:
    """The sidecar holding a dump's sha256: `<dump>.sha256`, readable by `sha256sum -c`."""
    return dump.with_name(dump.name + ".sha256")


def dumps_in(folder: Path, database: str) -> list[Dump]:
    """The complete dumps of `database` in `folder`, newest first (others' files are ignored)."""
    pattern = re.compile(rf"^{re.escape(file_stem(database))}-(\d{{8}}T\d{{6}}Z)\.dump$")
    found = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = pattern.match(path.name)
        if match and path.is_file():
            taken = datetime.strptime(match.group(1), STAMP_FORMAT).replace(tzinfo=UTC)
            found.append(Dump(path, taken))
    return sorted(found, key=lambda dump: dump.taken_at, reverse=True)


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks (dumps may be many gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    """Write a small file through a temporary name, so it is never seen half written."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with temp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)


def _seal(temp: Path, final: Path) -> str:
    """fsync the finished dump, rename it into place, write its checksum; returns the sha256."""
    with temp.open("rb") as done:
        os.fsync(done.fileno())
    digest = sha256_of(temp)
    temp.replace(final)
    _write_durably(checksum_path(final), f"{digest}  {final.name}\n".encode())
    _fsync_dir(final.parent)
    return digest


def verify(dump: Path) -> str:
    """Check a dump against its sidecar; returns the sha256 or raises BackupError."""
    if not dump.is_file():
        raise BackupError(f"{dump} does not exist or is not a file")
    sidecar = checksum_path(dump)
    if not sidecar.is_file():
        raise BackupError(
            f"{sidecar.name} is missing, so {dump.name} cannot be checked "
            "(--no-verify restores it unchecked)"
        )
    fields = sidecar.read_text(encoding="utf-8", errors="replace").split()
    expected = fields[0].lower() if fields else ""
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise BackupError(f"{sidecar.name} holds no sha256 checksum")
    actual = sha256_of(dump)
    if actual != expected:
        raise BackupError(
            f"{dump.name} is corrupt or was changed since it was written: sha256 {actual[:16]}..."
            f" does not match {expected[:16]}... in {sidecar.name}"
        )
    return actual


def prune(folder: Path, database: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dumps of `database` (and their checksums)."""
    removed = []
    for dump in dumps_in(folder, database)[keep:]:
        dump.path.unlink(missing_ok=True)
        dump.checksum_path.unlink(missing_ok=True)
        removed.append(dump.path)
    return removed


def _prepare(final: Path, database: str) -> None:
    """Create the backup folder, clear a killed run's leftovers, refuse to overwrite a dump."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the backup folder {final.parent}: {exc}") from exc
    for stale in _remove_partials(final.parent, database):
        log.warning("backup_partial_removed", path=str(stale))
    if final.exists():
        raise BackupError(f"{final} already exists: two backups within the same second")


def _remove_partials(folder: Path, database: str) -> list[Path]:
    """Delete temporary files a killed run of this database's backup left behind.

    One backup process per folder and database is assumed (the compose file runs one).
    """
    prefix = f".{file_stem(database)}-"
    stale = [
        path
        for path in folder.iterdir()
        if path.name.startswith(prefix) and path.name.endswith(".partial")
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


# ---------------------------------------------------------------------------- processes


async def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a PostgreSQL tool; returns its exit status and standard error (and output, merged).

    Cancelling the caller terminates the tool, so SIGTERM does not leave a pg_dump running.
    """
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(process.wait())
        raise
    return process.returncode or 0, output.decode("utf-8", errors="replace").strip()


def _last_lines(text: str, count: int = 5) -> str:
    return " | ".join(text.splitlines()[-count:]) or "no output"


# ---------------------------------------------------------------------------- backup


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What one backup run wrote and deleted."""

    path: Path
    size_bytes: int
    sha256: str
    duration_s: float
    pruned: tuple[Path, ...]


async def backup_once(
    database_url: str,
    folder: Path,
    keep: int,
    *,
    bin_dir: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackupResult:
    """Dump the database into `folder`, then prune it to the newest `keep` dumps."""
    if keep < 1:
        raise BackupError(f"--keep must be at least 1, not {keep}")
    pg_dump = find_tool("pg_dump", bin_dir)
    database = database_name(database_url)
    final = folder / f"{file_stem(database)}-{now().strftime(STAMP_FORMAT)}.dump"
    await asyncio.to_thread(_prepare, final, database)
    temp = folder / f".{final.name}.{os.getpid()}.partial"
    url, env = libpq_target(database_url)
    started = time.monotonic()
    try:
        status, output = await _run(
            [str(pg_dump), "--format=custom", f"--file={temp}", f"--dbname={url}"], env
        )
        if status != 0:
            raise BackupError(
                f"pg_dump of {redact(database_url)} failed (exit {status}): {_last_lines(output)}"
            )
        digest = await asyncio.to_thread(_seal, temp, final)
    except OSError as exc:
        raise BackupError(f"cannot write {final}: {exc}") from exc
    finally:
        temp.unlink(missing_ok=True)
    duration = time.monotonic() - started
    try:
        pruned = tuple(await asyncio.to_thread(prune, folder, database, keep))
    except OSError as exc:
        raise BackupError(f"{final.name} was written but pruning {folder} failed: {exc}") from exc
    return BackupResult(final, final.stat().st_size, digest, duration, pruned)


async def _backup_logged(database_url: str, folder: Path, keep: int, bin_dir: str | None) -> None:
    result = await backup_once(database_url, folder, keep, bin_dir=bin_dir)
    log.info(
        "backup_written",
        path=str(result.path),
        bytes=result.size_bytes,
        sha256=result.sha256,
        duration_s=round(result.duration_s, 3),
        kept=keep,
    )
    for path in result.pruned:
        log.info("backup_pruned", path=str(path))


async def run_schedule(
    database_url: str,
    folder: Path,
    keep: int,
    every_s: float,
    *,
    bin_dir: str | None = None,
    shutdown: Shutdown | None = None,
) -> None:
    """Back up now and then every `every_s` seconds (from the start of each run) until SIGTERM.

    A failed run is logged and the next one is tried on schedule; SIGTERM during a dump stops
    pg_dump and removes its temporary file.
    """
    stop = shutdown or Shutdown()
    if shutdown is None:
        stop.install()
    loop = asyncio.get_running_loop()
    log.info("backup_scheduled", folder=str(folder), every_s=every_s, keep=keep)
    try:
        while not stop.requested:
            started = loop.time()
            run = asyncio.create_task(_backup_logged(database_url, folder, keep, bin_dir))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not run.done():
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
                log.warning("backup_interrupted", reason="shutdown")
                break
            try:
                run.result()
            except BackupError as exc:
                # An expected failure (pg_dump refused, disk full): its message says it all.
                log.error("backup_failed", error=str(exc), next_in_s=round(every_s))  # noqa: TRY400
            except Exception:  # the schedule is a task boundary: log the traceback, retry later
                log.exception("backup_failed", next_in_s=round(every_s))
            remaining = every_s - (loop.time() - started)
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), remaining)
    finally:
        if shutdown is None:
            stop.uninstall()
    log.info("backup_stopped")


async def run_backup(
    database_url: str, folder: Path, keep: int, every_s: float | None, bin_dir: str | None
) -> int:
    """`twitch-archive backup`: one run (exit 1 if it fails), or a schedule until SIGTERM."""
    if every_s is not None:
        await run_schedule(database_url, folder, keep, every_s, bin_dir=bin_dir)
        return 0
    try:
        await _backup_logged(database_url, folder, keep, bin_dir)
    except BackupError as exc:
        log.error("backup_failed", error=str(exc))  # noqa: TRY400 - the message says it all
        return 1
    return 0


# ---------------------------------------------------------------------------- restore


@dataclass(frozen=True, slots=True)
class Contents:
    """What `pg_restore --list` says about a dump."""

    database: str | None
    created_at: str | None
    tables: int


async def contents(dump: Path, pg_restore: Path) -> Contents:
    """Read a dump's table of contents; raises BackupError if it is not a pg_dump archive."""
    status, output = await _run([str(pg_restore), "--list", str(dump)], dict(os.environ))
    if status != 0:
        raise BackupError(
            f"{dump.name} is not a pg_dump custom-format archive: {_last_lines(output, 2)}"
        )
    database = re.search(r"^;\s+dbname:\s+(.+)$", output, re.MULTILINE)
    created = re.search(r"^;\s+Archive created at\s+(.+)$", output, re.MULTILINE)
    tables = len(re.findall(r"^\d+;\s+\d+\s+\d+\s+TABLE DATA\s", output, re.MULTILINE))
    return Contents(
        database.group(1).strip() if database else None,
        created.group(1).strip() if created else None,
        tables,
    )


USER_RELATIONS: Final = """
SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
"""
"""Tables, views, sequences and foreign tables outside the system schemas."""


async def ensure_empty_database(database_url: str) -> bool:
    """Create the URL's database when it does not exist (True), or check that it holds no
    table, view or sequence (False); raises BackupError if it does."""
    try:
        conn = await asyncpg.connect(
            database_url, server_settings={"application_name": APPLICATION_NAME}
        )
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        try:
            relations = await conn.fetchval(USER_RELATIONS)
        finally:
            await conn.close()
        if relations:
            raise BackupError(
                f"database {database_name(database_url)} already holds {relations} tables, "
                "views or sequences: restore into a new database (--database-url naming one that "
                "does not exist) and swap the names, as docs/operations.md describes"
            )
        return False
    name = database_name(database_url)
    admin_url = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    admin = await asyncpg.connect(admin_url, server_settings={"application_name": APPLICATION_NAME})
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        await admin.execute(f"CREATE DATABASE {quoted}")
    finally:
        await admin.close()
    return True


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore read and where it went."""

    dump: Path
    contents: Contents
    target: str
    created: bool
    duration_s: float


async def restore(
    dump: Path, database_url: str, *, verify_checksum: bool = True, bin_dir: str | None = None
) -> RestoreResult:
    """Check a dump, then restore it in one transaction into `database_url`, which must be
    missing (it is created) or empty: everything is restored, or nothing."""
    pg_restore = find_tool("pg_restore", bin_dir)
    if verify_checksum:
        await asyncio.to_thread(verify, dump)
    elif not await asyncio.to_thread(dump.is_file):
        raise BackupError(f"{dump} does not exist or is not a file")
    found = await contents(dump, pg_restore)
    try:
        created = await ensure_empty_database(database_url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise BackupError(f"cannot reach {redact(database_url)}: {exc}") from exc
    url, env = libpq_target(database_url)
    started = time.monotonic()
    status, output = await _run(
        [
            str(pg_restore),
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            str(dump),
        ],
        env,
    )
    if status != 0:
        raise BackupError(
            f"pg_restore into {redact(database_url)} failed (exit {status}), nothing was "
            f"changed: {_last_lines(output)}"
        )
    return RestoreResult(dump, found, redact(database_url), created, time.monotonic() - started)


def describe(result: RestoreResult) -> str:
    """One line saying what was restored where."""
    source = result.contents.database or "unknown database"
    when = f" at {result.contents.created_at}" if result.contents.created_at else ""
    into = "new database" if result.created else "empty database"
    return (
        f"restored {result.dump.name} (pg_dump of {source}{when}, "
        f"{result.contents.tables} tables with data) into {into} "
        f"{database_name(result.target)} in {result.duration_s:.1f} s"
    )


# ---------------------------------------------------------------------------- command line


def run_backup_cli(
    folder: str | None, keep: int | None, every: str | None, settings: BackupSettings
) -> int:
    """`twitch-archive backup`: options win over BACKUP_DIR, BACKUP_KEEP and BACKUP_EVERY."""
    chosen_dir = folder or settings.backup_dir
    if not chosen_dir:
        sys.stderr.write("backup: name the folder of the dumps with --dir DIR (or BACKUP_DIR)\n")
        return 2
    chosen_keep = keep if keep is not None else settings.backup_keep
    if chosen_keep < 1:
        sys.stderr.write(f"backup: --keep must be at least 1, not {chosen_keep}\n")
        return 2
    interval = every if every is not None else settings.backup_every
    try:
        every_s = parse_duration(interval) if interval else None
        find_tool("pg_dump", settings.pg_bin_dir)
    except BackupError as exc:
        sys.stderr.write(f"backup: {exc}\n")
        return 2
    configure("twitch-archive-backup", settings.log_level)
    return asyncio.run(
        run_backup(
            settings.database_url, Path(chosen_dir), chosen_keep, every_s, settings.pg_bin_dir
        )
    )


def run_restore_cli(
    file: str, database_url: str | None, verify_checksum: bool, settings: BackupSettings
) -> int:
    """`twitch-archive restore`: print what was restored where, or why nothing was."""
    target = database_url or settings.database_url
    configure("twitch-archive-restore", settings.log_level)
    try:
        result = asyncio.run(
            restore(
                Path(file), target, verify_checksum=verify_checksum, bin_dir=settings.pg_bin_dir
            )
        )
    except BackupError as exc:
        sys.stderr.write(f"restore: {exc}\n")
        return 1
    sys.stdout.write(describe(result) + "\n")
    return 0
