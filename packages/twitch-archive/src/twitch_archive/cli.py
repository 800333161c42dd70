"""The `twitch-archive` command-line tool: parse raw IRC logs, apply migrations, and more."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from twitch_archive import __version__, parse_command
from twitch_archive.simulator import cli as simulator_cli

DESCRIPTION = """\
Tools for the Twitch chat archive.

commands:
  parse      turn raw Twitch IRC lines into normalized JSON events
  migrate    apply the database schema (idempotent, safe to run from several replicas)
  simulate   serve a simulated Twitch IRC server (tests, demos, load)
  contracts  print the JSON Schema of the event contract
  backup     pg_dump the database into a folder, keep the newest dumps, optionally on a schedule
  restore    check a dump's checksum and restore it into a database

Configuration comes from environment variables (DATABASE_URL, ...): see docs/configuration.md.
"""


BACKUP_HELP = """\
Dump the database at DATABASE_URL with `pg_dump --format=custom` into DIR as
<database>-<UTC time>.dump (for example twitch_archive-20250101T030000Z.dump), with a
sha256sum-style checksum beside it (.dump.sha256), then delete all but the newest N dumps of that
database. pg_dump reads the whole database in one transaction, so the dump is a consistent
snapshot while the writers keep inserting. A dump appears under its name only once complete.

With --every, it backs up at once and then on that schedule until SIGTERM; a failed run is
logged and tried again at the next one. Without it, it backs up once and exits 1 on failure.
pg_dump is taken from PG_BIN_DIR, PATH, or the newest /usr/lib/postgresql/<major>/bin.

examples:
  twitch-archive backup --dir /backups --keep 7
  twitch-archive backup --dir /backups --keep 7 --every 24h
"""

RESTORE_HELP = """\
Check FILE against FILE.sha256, then restore it with `pg_restore --no-owner` in a single
transaction (everything or nothing) into the database of --database-url (default DATABASE_URL),
which must not exist yet (it is created) or be empty. It never restores over an archive: to
replace one, restore next to it, then stop the services and swap the database names (see
docs/operations.md). Prints what it restored.

examples:
  twitch-archive restore /backups/twitch_archive-20250101T030000Z.dump \\
      --database-url postgresql://postgres@127.0.0.1:5432/twitch_archive_restored
"""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twitch-archive",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    parse = commands.add_parser(
        "parse",
        help="turn raw Twitch IRC lines into normalized JSON events",
        description=parse_command.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parse.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="raw IRC log files, plain or .gz; none or '-' reads standard input",
    )

    commands.add_parser(
        "migrate",
        help="apply the database schema",
        description=(
            "Apply every numbered SQL migration in schema/ that the database at DATABASE_URL "
            "has not recorded yet, under an advisory lock (replicas starting together are "
            "safe), creating the database if it is missing. Prints what it applied."
        ),
    )
    simulate = commands.add_parser(
        "simulate",
        help="serve a simulated Twitch IRC server (tests, demos, load)",
        description=simulator_cli.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulator_cli.add_arguments(simulate)
    commands.add_parser(
        "contracts",
        help="print the JSON Schema of the event contract",
        description="Print the JSON Schema of the chat events (what `make contracts` writes).",
    )
    backup = commands.add_parser(
        "backup",
        help="pg_dump the database into a folder, keep the newest dumps",
        description=BACKUP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backup.add_argument(
        "--dir", metavar="DIR", help="folder of the dumps, created if missing (env BACKUP_DIR)"
    )
    backup.add_argument(
        "--keep",
        metavar="N",
        type=int,
        help="newest dumps of this database kept after each backup (env BACKUP_KEEP, default 7)",
    )
    backup.add_argument(
        "--every",
        metavar="DURATION",
        help="back up now and then every DURATION (24h, 90m, 1h30m) until SIGTERM "
        "(env BACKUP_EVERY; default: once)",
    )
    restore = commands.add_parser(
        "restore",
        help="check a dump's checksum and restore it into a database",
        description=RESTORE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    restore.add_argument("file", metavar="FILE", help="a .dump file written by `backup`")
    restore.add_argument(
        "--database-url",
        metavar="URL",
        help="a new or empty database to restore into, created if missing (default: DATABASE_URL)",
    )
    restore.add_argument(
        "--no-verify",
        action="store_true",
        help="restore even without a matching FILE.sha256 (a dump copied without its checksum)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "parse":
        try:
            return parse_command.run(list(args.files), sys.stdout.buffer, sys.stderr)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
    if args.command == "migrate":
        from twitch_archive import migrate  # noqa: PLC0415 - asyncpg loads only when used
        from twitch_archive.settings import ToolSettings, load_or_exit  # noqa: PLC0415

        settings = load_or_exit(ToolSettings)
        return migrate.run_cli(settings.database_url, settings.schema_dir)
    if args.command == "simulate":
        return simulator_cli.run(args)
    if args.command == "contracts":
        from twitch_archive.contracts import schema_json  # noqa: PLC0415

        sys.stdout.write(schema_json())
        return 0
    if args.command in ("backup", "restore"):
        from twitch_archive import backup  # noqa: PLC0415 - asyncpg loads only when used
        from twitch_archive.settings import BackupSettings, load_or_exit  # noqa: PLC0415

        options = load_or_exit(BackupSettings)
        if args.command == "backup":
            return backup.run_backup_cli(args.dir, args.keep, args.every, options)
        return backup.run_restore_cli(args.file, args.database_url, not args.no_verify, options)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse rejects the rest


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
