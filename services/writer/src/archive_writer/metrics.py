"""The writer's Prometheus metrics, on a registry passed in (catalogue: docs/metrics.md)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

TABLES: Final = ("messages", "usernotices", "mod_actions")
DELAY_BUCKETS_S: Final = (
    0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5,
    2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0,
)  # fmt: skip
"""Fine below 1.5 s (the commit-delay target), so histogram_quantile's p99 is within ~50 ms."""
BATCH_BUCKETS: Final = (1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000)
FLUSH_BUCKETS_S: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class BulkHistogram(Collector):
    """A histogram fed a whole batch of observations at once.

    prometheus_client's Histogram costs about a microsecond per observe(); one per event at
    30,000 events/s is a few percent of the writer's only core. This sorts the batch once and
    counts each bucket with a binary search.
    """

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = tuple(sorted(buckets))
        self._cumulative = [0] * (len(self.bounds) + 1)  # last one is +Inf: the count
        self._sum = 0.0

    def observe_many(self, values: Iterable[float]) -> None:
        """Add every value of `values` to the histogram."""
        ordered = sorted(values)
        if not ordered:
            return
        for i, bound in enumerate(self.bounds):
            self._cumulative[i] += bisect.bisect_right(ordered, bound)
        self._cumulative[-1] += len(ordered)
        self._sum += sum(ordered)

    @property
    def count(self) -> int:
        return self._cumulative[-1]

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(
            self.name,
            self.documentation,
            buckets=[
                *((repr(float(b)), c) for b, c in zip(self.bounds, self._cumulative, strict=False)),
                ("+Inf", self._cumulative[-1]),
            ],
            sum_value=self._sum,
        )

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self.name, self.documentation)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        yield self._family()


class WriterMetrics:
    """Every metric the writer exports; names are `archive_writer_<noun>_<unit>`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.batch_size = Histogram(
            "archive_writer_batch_size_events",
            "Events per flushed batch (stored, duplicates included)",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.flush_duration = Histogram(
            "archive_writer_flush_duration_seconds",
            "Time to store one batch: COPY, inserts, rollups and COMMIT (retries excluded)",
            buckets=FLUSH_BUCKETS_S,
            registry=registry,
        )
        self.rows_inserted = Counter(
            "archive_writer_rows_inserted_total",
            "Rows really inserted, by table (duplicates excluded)",
            ["table"],
            registry=registry,
        )
        self.duplicates = Counter(
            "archive_writer_duplicates_total",
            "Events ignored because their id was already stored, by table",
            ["table"],
            registry=registry,
        )
        self.deletions_applied = Counter(
            "archive_writer_deletions_applied_total",
            "Stored messages marked deleted by a CLEARMSG that arrived after them",
            registry=registry,
        )
        self.dead_lettered = Counter(
            "archive_writer_dead_lettered_total",
            "Events sent to the dead-letter stream, by reason",
            ["reason"],
            registry=registry,
        )
        self.events_received = Counter(
            "archive_writer_events_received_total",
            "JetStream messages delivered to this writer (redeliveries included)",
            registry=registry,
        )
        self.store_retries = Counter(
            "archive_writer_store_retries_total",
            "Batch attempts that failed and will be retried, by reason",
            ["reason"],
            registry=registry,
        )
        self.batch_splits = Counter(
            "archive_writer_batch_splits_total",
            "Batches split in two to find a row PostgreSQL refuses",
            registry=registry,
        )
        self.task_errors = Counter(
            "archive_writer_task_errors_total",
            "Unexpected errors caught at a task boundary, by task",
            ["task"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "archive_writer_consumer_lag_messages",
            "Messages in the stream not yet delivered to any writer (consumer num_pending)",
            registry=registry,
        )
        self.consumer_ack_pending = Gauge(
            "archive_writer_consumer_ack_pending_messages",
            "Messages delivered to the writers and not yet acknowledged (all replicas)",
            registry=registry,
        )
        self.postgres_up = Gauge(
            "archive_writer_postgres_up",
            "1 while the last batch attempt reached PostgreSQL, 0 while batches are being retried",
            registry=registry,
        )
        self.queue_depth = Gauge(
            "archive_writer_queue_depth",
            "Items in a bounded buffer: inflight (messages held), flush (batches), dead_letter",
            ["queue"],
            registry=registry,
        )
        self.queue_capacity = Gauge(
            "archive_writer_queue_capacity",
            "Capacity of each bounded buffer",
            ["queue"],
            registry=registry,
        )
        self.queue_dropped = Counter(
            "archive_writer_queue_dropped_total",
            "Items a full buffer refused (left unacked for redelivery), by queue and reason",
            ["queue", "reason"],
            registry=registry,
        )
        self.commit_delay = BulkHistogram(
            "archive_writer_commit_delay_seconds",
            "Time from an event's Twitch timestamp to the commit that stored it",
            DELAY_BUCKETS_S,
        )
        registry.register(self.commit_delay)
        for table in TABLES:
            self.rows_inserted.labels(table)
            self.duplicates.labels(table)
        self.postgres_up.set(1)
