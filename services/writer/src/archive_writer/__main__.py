"""`archive-writer`: run one writer replica (settings from the environment, see --help)."""

from __future__ import annotations

from archive_writer import app
from archive_writer.settings import WriterSettings
from twitch_archive.entrypoint import run_service

DESCRIPTION = """\
Archive writer: pulls normalized chat events from the JetStream chat stream (durable consumer
`writer`, shared by every replica) and stores them in PostgreSQL in COPY batches, exactly once in
effect. Undecodable or refused events go to the dead-letter stream. Serves /metrics, /healthz and
/readyz on METRICS_HOST:METRICS_PORT. SIGTERM drains: stop pulling, store and ack the open batch,
exit 0.

Configured by environment variables (all optional, local defaults): DATABASE_URL, NATS_URL,
NATS_NAMESPACE, METRICS_HOST, METRICS_PORT, BATCH_MAX_EVENTS, BATCH_MAX_AGE_MS, FETCH_BATCH,
FLUSH_QUEUE_BATCHES, STORE_CONNECTIONS, MAX_ACK_PENDING, ACK_WAIT_S, RETRY_MIN_S, RETRY_MAX_S,
STORE_TIMEOUT_S, SHUTDOWN_TIMEOUT_S, LAG_POLL_S, LOG_LEVEL. Each is described in
docs/configuration.md.
"""


def main(argv: list[str] | None = None) -> None:
    """`--help`, settings from the environment, logging, then run until signalled."""
    run_service(
        prog="archive-writer",
        service="writer",
        description=DESCRIPTION,
        settings_cls=WriterSettings,
        serve=app.run,
        argv=argv,
    )


if __name__ == "__main__":
    main()
