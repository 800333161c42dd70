"""The writer's settings: one frozen Struct read from the environment (docs/configuration.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from twitch_archive.settings import DEFAULT_DATABASE_URL, DEFAULT_NATS_URL, LogLevel


class WriterSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Where the writer reads from and writes to, and how it batches (tuned on 2 cores)."""

    database_url: str = DEFAULT_DATABASE_URL
    """PostgreSQL holding the archive schema; the local server by default."""
    nats_url: str = DEFAULT_NATS_URL
    """NATS server with JetStream; the local server by default."""
    nats_namespace: str = ""
    """Prefix of every subject and stream: empty in production, `t<runid>.` in tests."""
    metrics_host: str = "0.0.0.0"  # noqa: S104 - Prometheus scrapes it from other hosts/containers
    """Address of the /metrics /healthz /readyz server; all interfaces so Prometheus can scrape."""
    metrics_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 9102
    """Port of the /metrics /healthz /readyz server; 0 picks a free one (tests)."""
    batch_max_events: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 20_000
    """A batch is flushed when it holds this many events: 20,000 keeps COPY near its ceiling
    (ON CONFLICT inserts run 68k rows/s at 5k, 82k at 20k) and shares the rollup upserts of a
    user among more of their messages, while a batch stays about 20 MB."""
    batch_max_age_ms: Annotated[int, msgspec.Meta(ge=1, le=60_000)] = 500
    """...or when its oldest event has waited this long: bounds commit delay on quiet streams
    (p99 under 1.5 s at 5,000 msg/s with the default)."""
    fetch_batch: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1_000
    """Messages asked for in one JetStream pull request; several requests stay in flight."""
    flush_queue_batches: Annotated[int, msgspec.Meta(ge=1, le=16)] = 2
    """Complete batches that may wait while one is being stored: lets fetching and decoding the
    next batch overlap the COPY of the previous one, and bounds memory."""
    store_connections: Annotated[int, msgspec.Meta(ge=1, le=8)] = 2
    """Batches stored at once, each on its own PostgreSQL connection: one backend is CPU-bound
    on the GIN index, so a second one overlaps its COPY and inserts with the first's rollups."""
    max_ack_pending: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 80_000
    """JetStream's limit on delivered-but-unacked messages of the shared consumer, all replicas
    together; each replica also holds at most (flush_queue_batches + store_connections + 1) x
    batch_max_events."""
    ack_wait_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    """JetStream redelivers a message not acked within this time; the writer sends in-progress
    acks for batches it is still retrying, so a long outage causes no redelivery storm."""
    retry_min_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 0.1
    """First wait before retrying a batch PostgreSQL could not take; doubles on every failure."""
    retry_max_s: Annotated[float, msgspec.Meta(gt=0, le=600)] = 10.0
    """Longest wait between retries (full jitter is applied below it)."""
    store_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 60.0
    """A batch transaction taking longer than this is abandoned and retried (PostgreSQL stuck)."""
    shutdown_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 25.0
    """On SIGTERM, how long to keep trying to store and ack the open batches before exiting
    anyway (unacked events are redelivered); under Kubernetes' default 30 s grace period."""
    lag_poll_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    """How often the consumer's pending count is read for archive_writer_consumer_lag_messages."""
    log_level: LogLevel = "info"
    """Log verbosity: debug, info, warning or error."""
