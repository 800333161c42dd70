"""The ingestor's Prometheus metrics (`archive_ingestor_<noun>_<unit>`), on a passed-in registry.

No label carries a channel or user name: cardinality stays fixed however many channels there are.
Hot counters (lines, events) are incremented once per WebSocket frame, not once per line.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from twitch_archive.events import EVENT_TYPES

PUBLISH_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0
)  # fmt: skip


class IngestorMetrics:
    """Every metric the ingestor exports; see docs/metrics.md (## ingestor)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        p = "archive_ingestor_"
        r = registry
        self.replicas = Gauge(f"{p}replicas", "Live ingestor replicas this one sees", registry=r)
        self.channels_wanted = Gauge(
            f"{p}channels_wanted", "Channels in the desired set (KV bucket)", registry=r
        )
        self.channels_assigned = Gauge(
            f"{p}channels_assigned", "Channels this replica is responsible for", registry=r
        )
        self.channels_joined = Gauge(
            f"{p}channels_joined", "Channels joined (confirmed) on an open connection", registry=r
        )
        self.connections = Gauge(f"{p}connections", "Open IRC WebSocket connections", registry=r)
        self.connection_attempts = Counter(
            f"{p}connection_attempts_total",
            "IRC connections opened or tried, by result",
            ["result"],
            registry=r,
        )
        self.reconnects = Counter(
            f"{p}reconnects_total",
            "IRC connections replaced, by reason (reconnect_requested, dropped, silent_server...)",
            ["reason"],
            registry=r,
        )
        self.lines = Counter(
            f"{p}lines_total", "IRC lines received, by command", ["command"], registry=r
        )
        self.events = Counter(
            f"{p}events_total", "Chat events parsed from IRC lines, by type", ["type"], registry=r
        )
        self.parse_errors = Counter(
            f"{p}parse_errors_total",
            "Malformed IRC lines skipped, by reason",
            ["reason"],
            registry=r,
        )
        self.joins = Counter(f"{p}joins_total", "JOIN commands sent (one per channel)", registry=r)
        self.join_failures = Counter(
            f"{p}join_failures_total",
            "JOINs refused or unanswered, by reason (retried later)",
            ["reason"],
            registry=r,
        )
        self.gaps = Counter(
            f"{p}gaps_total", "Coverage gaps recorded (CoverageGap events), by reason", ["reason"],
            registry=r,
        )  # fmt: skip
        self.gap_seconds = Counter(
            f"{p}gap_seconds_total", "Seconds of channel coverage lost, summed", registry=r
        )
        self.published = Counter(
            f"{p}published_total",
            "Events acked by JetStream, by result (stored, duplicate)",
            ["result"],
            registry=r,
        )
        self.publish_retries = Counter(
            f"{p}publish_retries_total",
            "Publishes sent again with the same id, by reason (timeout, disconnected, error)",
            ["reason"],
            registry=r,
        )
        self.publish_latency = Histogram(
            f"{p}publish_latency_seconds",
            "From publish to JetStream's ack",
            buckets=PUBLISH_LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            f"{p}queue_depth",
            "Events held: publish_buffer (waiting to be sent), in_flight (awaiting an ack)",
            ["queue"],
            registry=r,
        )
        self.queue_capacity = Gauge(
            f"{p}queue_capacity", "Bound of each queue", ["queue"], registry=r
        )
        self.queue_dropped = Counter(
            f"{p}queue_dropped_total",
            "Events given up on, by queue and reason (rejected by JetStream, shutdown)",
            ["queue", "reason"],
            registry=r,
        )
        self.backpressure_seconds = Counter(
            f"{p}backpressure_seconds_total",
            "Seconds IRC reads were paused because the publish buffer was full",
            registry=r,
        )
        self.heartbeat_failures = Counter(
            f"{p}heartbeat_failures_total", "Heartbeats that could not be written", registry=r
        )
        for event_type in EVENT_TYPES:
            self.events.labels(event_type)
        for result in ("stored", "duplicate"):
            self.published.labels(result)
