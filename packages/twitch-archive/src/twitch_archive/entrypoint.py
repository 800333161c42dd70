"""The console entry point every service shares: `--help`, settings, logging, the event loop."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import msgspec

from twitch_archive import logging
from twitch_archive.settings import load_or_exit

S = TypeVar("S", bound=msgspec.Struct)


def run_service(
    *,
    prog: str,
    service: str,
    description: str,
    settings_cls: type[S],
    serve: Callable[[S], Coroutine[Any, Any, int | None]],
    argv: list[str] | None = None,
) -> None:
    """Answer `--help` with `description`, load `settings_cls` from the environment (exit 2 on
    bad configuration), configure logging as `service` at the settings' `log_level` (every
    service has one), then run `serve(settings)` on uvloop where it is installed and exit with
    its status."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args(argv)
    settings = load_or_exit(settings_cls)
    logging.configure(service, getattr(settings, "log_level", "info"))
    try:
        import uvloop  # noqa: PLC0415 - optional: a faster event loop where it is installed
    except ImportError:
        sys.exit(asyncio.run(serve(settings)))
    sys.exit(uvloop.run(serve(settings)))
