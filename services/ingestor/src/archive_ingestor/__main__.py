"""`archive-ingestor` (or `python -m archive_ingestor`): run one ingestor replica until SIGTERM."""

from __future__ import annotations

from archive_ingestor.app import IngestorApp
from archive_ingestor.settings import IngestorSettings
from twitch_archive.entrypoint import run_service
from twitch_archive.lifecycle import Shutdown

DESCRIPTION = """\
Archive ingestor: joins its share of the wanted channels on Twitch IRC over WebSocket
(TWITCH_IRC_URL), turns every line into a normalized event (message, usernotice, mod action,
coverage gap) and publishes it to the JetStream chat stream, deduplicated by event id. Replicas
split the channels among themselves through the NATS KV buckets (REPLICATION replicas per
channel); CHANNELS seeds the wanted set on the very first start, the api owns it afterwards.
Serves /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT. SIGTERM hands the channels
over, parts them, flushes what it holds and exits 0.

Configured by environment variables (all optional, local defaults), each described in
docs/configuration.md.
"""


async def serve(settings: IngestorSettings) -> None:
    """Run one replica with signal handling."""
    shutdown = Shutdown()
    shutdown.install()
    try:
        await IngestorApp(settings).run(shutdown)
    finally:
        shutdown.uninstall()


def main(argv: list[str] | None = None) -> None:
    """`--help`, settings from the environment, logging, then run until signalled."""
    run_service(
        prog="archive-ingestor",
        service="ingestor",
        description=DESCRIPTION,
        settings_cls=IngestorSettings,
        serve=serve,
        argv=argv,
    )


if __name__ == "__main__":
    main()
