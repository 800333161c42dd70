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

Configuration comes from environment variables (DATABASE_URL, ...): see docs/configuration.md.
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
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse rejects the rest


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
