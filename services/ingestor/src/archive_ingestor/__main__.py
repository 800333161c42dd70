"""`archive-ingestor` (or `python -m archive_ingestor`): run one ingestor replica until SIGTERM."""

from __future__ import annotations

import asyncio

from archive_ingestor.app import IngestorApp
from archive_ingestor.settings import IngestorSettings
from twitch_archive.lifecycle import Shutdown
from twitch_archive.logging import configure
from twitch_archive.settings import load_or_exit


async def serve(settings: IngestorSettings) -> None:
    """Run one replica with signal handling."""
    shutdown = Shutdown()
    shutdown.install()
    try:
        await IngestorApp(settings).run(shutdown)
    finally:
        shutdown.uninstall()


def main() -> None:
    """Entry point: settings from the environment, logs configured, uvloop when available."""
    settings = load_or_exit(IngestorSettings)
    configure("ingestor", settings.log_level)
    try:
        import uvloop  # noqa: PLC0415 - optional: a faster event loop where it is installed
    except ImportError:
        asyncio.run(serve(settings))
    else:
        uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
