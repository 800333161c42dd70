"""The gateway's Prometheus metrics, on a registry passed in (catalogue: docs/metrics.md)."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

DELAY_BUCKETS_S: Final = (
    0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0,
    30.0, 60.0,
)  # fmt: skip
"""Fine below 100 ms (the delivery target), so histogram_quantile's p99 is within ~10-25 ms."""

EVENT_TYPES: Final = ("message", "usernotice", "mod_action", "coverage_gap")
FRAME_TYPES: Final = ("message", "usernotice", "mod_action", "delete")
DROP_REASONS: Final = ("slow_consumer", "rate_limit", "heartbeat")
QUEUES: Final = ("client_send", "nats")


class WeightedHistogram(Collector):
    """A histogram that takes one value with a weight: `observe(0.03, 12)` is 12 observations.

    A client's socket is written once per batch of frames; the batch's oldest frame gives the
    delay for all of them (an upper bound per frame) at the cost of one bisect per write instead
    of one prometheus_client observe() per frame (100,000 frames/s at full load).
    """

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = tuple(sorted(buckets))
        self._counts = [0] * (len(self.bounds) + 1)  # per bucket, not cumulative; last is +Inf
        self._sum = 0.0

    def observe(self, value: float, weight: int = 1) -> None:
        """Count `weight` observations of `value`."""
        self._counts[bisect.bisect_left(self.bounds, value)] += weight
        self._sum += value * weight

    @property
    def count(self) -> int:
        return sum(self._counts)

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self.name, self.documentation)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        cumulative, buckets = 0, []
        for bound, count in zip(self.bounds, self._counts, strict=False):
            cumulative += count
            buckets.append((repr(float(bound)), cumulative))
        buckets.append(("+Inf", cumulative + self._counts[-1]))
        yield HistogramMetricFamily(
            self.name, self.documentation, buckets=buckets, sum_value=self._sum
        )


class GatewayMetrics:
    """Every metric the gateway exports; names are `archive_live_gateway_<noun>_<unit>`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.connections = Gauge(
            "archive_live_gateway_connections",
            "Open WebSocket connections",
            registry=registry,
        )
        self.handshakes = Counter(
            "archive_live_gateway_handshakes_total",
            "Requests to /api/live: accepted, origin_refused, not_websocket",
            ["result"],
            registry=registry,
        )
        self.subscriptions = Gauge(
            "archive_live_gateway_subscriptions",
            "Channels watched, summed over connections (the firehose counts one)",
            registry=registry,
        )
        self.channels_watched = Gauge(
            "archive_live_gateway_channels_watched",
            "Channels with at least one watcher on this replica",
            registry=registry,
        )
        self.nats_subscriptions = Gauge(
            "archive_live_gateway_nats_subscriptions",
            "NATS subscriptions held: one per watched channel, plus one for the firehose",
            registry=registry,
        )
        self.events_received = Counter(
            "archive_live_gateway_events_received_total",
            "Events decoded from NATS, by type (each once, whatever its number of watchers)",
            ["type"],
            registry=registry,
        )
        self.events_invalid = Counter(
            "archive_live_gateway_events_invalid_total",
            "NATS messages that did not decode as chat events (skipped)",
            registry=registry,
        )
        self.events_duplicate = Counter(
            "archive_live_gateway_events_duplicate_total",
            "Events skipped because their id was already delivered (ingestor replication, retries)",
            registry=registry,
        )
        self.frames_sent = Counter(
            "archive_live_gateway_frames_sent_total",
            "Event frames queued for clients, by type (one per event and watcher)",
            ["type"],
            registry=registry,
        )
        self.client_frames = Counter(
            "archive_live_gateway_client_frames_total",
            "Client frames accepted, by action",
            ["action"],
            registry=registry,
        )
        self.client_frames_rejected = Counter(
            "archive_live_gateway_client_frames_rejected_total",
            "Client frames answered with an error frame, by error code",
            ["reason"],
            registry=registry,
        )
        self.clients_dropped = Counter(
            "archive_live_gateway_clients_dropped_total",
            "Connections the gateway closed: slow_consumer, rate_limit, heartbeat",
            ["reason"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "archive_live_gateway_queue_depth",
            "Items waiting: client_send (frames, all clients), nats (events, all subscriptions)",
            ["queue"],
            registry=registry,
        )
        self.queue_capacity = Gauge(
            "archive_live_gateway_queue_capacity",
            "Capacity of those buffers, summed the same way",
            ["queue"],
            registry=registry,
        )
        self.queue_fullest = Gauge(
            "archive_live_gateway_client_queue_fullest_frames",
            "Frames waiting in the fullest client queue (SEND_QUEUE_MAX closes the client)",
            registry=registry,
        )
        self.queue_dropped = Counter(
            "archive_live_gateway_queue_dropped_total",
            "Items a full buffer refused: client_send/full (the client is closed), "
            "nats/slow_consumer (events NATS dropped before the gateway read them)",
            ["queue", "reason"],
            registry=registry,
        )
        self.task_errors = Counter(
            "archive_live_gateway_task_errors_total",
            "Unexpected errors caught at a task boundary, by task",
            ["task"],
            registry=registry,
        )
        self.delivery_delay = WeightedHistogram(
            "archive_live_gateway_delivery_delay_seconds",
            "Event time (Twitch's tmi-sent-ts) to the write of its frame to a client's socket",
            DELAY_BUCKETS_S,
        )
        registry.register(self.delivery_delay)
        for kind in EVENT_TYPES:
            self.events_received.labels(kind)
        for kind in FRAME_TYPES:
            self.frames_sent.labels(kind)
        for reason in DROP_REASONS:
            self.clients_dropped.labels(reason)
        self.queue_dropped.labels("client_send", "full")
        self.queue_dropped.labels("nats", "slow_consumer")

    def watch_queues(
        self,
        depth: dict[str, Callable[[], float]],
        capacity: dict[str, Callable[[], float]],
        fullest: Callable[[], float],
    ) -> None:
        """Read queue sizes at scrape time from the components that own the queues."""
        for queue, read in depth.items():
            self.queue_depth.labels(queue).set_function(read)
        for queue, read in capacity.items():
            self.queue_capacity.labels(queue).set_function(read)
        self.queue_fullest.set_function(fullest)
