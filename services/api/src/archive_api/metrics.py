"""The api's Prometheus metrics, on a registry passed in (one catalogue: docs/metrics.md)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""Seconds: fine below 50 ms, where the list endpoints live, up to the statement timeout."""


class ApiMetrics:
    """Every metric of one api process. Labels never hold a channel or a user."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.request_duration = Histogram(
            "archive_api_request_duration_seconds",
            "Time from the request's arrival to the end of its response, per route template.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.requests_in_flight = Gauge(
            "archive_api_requests_in_flight",
            "Requests being handled right now.",
            registry=registry,
        )
        self.rate_limited = Counter(
            "archive_api_rate_limited_total",
            "Requests refused with 429 by the per-IP rate limit.",
            registry=registry,
        )
        self.redis_up = Gauge(
            "archive_api_redis_up",
            "1 while Redis answers; 0 while the api fails open (no limit, no cache).",
            registry=registry,
        )
        self.redis_errors = Counter(
            "archive_api_redis_errors_total",
            "Redis operations that failed or timed out, by operation (ratelimit, cache).",
            ["operation"],
            registry=registry,
        )
        self.cache_requests = Counter(
            "archive_api_cache_requests_total",
            "Look-ups of the aggregate cache: hit, miss, or bypass (Redis down or TTL 0).",
            ["result"],
            registry=registry,
        )
        self.search_windows = Histogram(
            "archive_api_search_windows",
            "Time windows one full-text search page queried (newest first, until the page fills).",
            buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32),
            registry=registry,
        )
        self.export_rows = Counter(
            "archive_api_export_rows_total",
            "Rows streamed by NDJSON and CSV exports, by format.",
            ["format"],
            registry=registry,
        )
        self.channel_changes = Counter(
            "archive_api_channel_changes_total",
            "Channel management requests applied, by action (add, activate, deactivate, rejoin).",
            ["action"],
            registry=registry,
        )
        self.nats_up = Gauge(
            "archive_api_nats_up",
            "1 while the NATS connection (channel management) is up.",
            registry=registry,
        )
        self.db_pool_size = Gauge(
            "archive_api_db_pool_size",
            "Open PostgreSQL connections, by pool (plans: custom or generic).",
            ["plans"],
            registry=registry,
        )
        self.db_pool_idle = Gauge(
            "archive_api_db_pool_idle",
            "Idle PostgreSQL connections, by pool (plans: custom or generic).",
            ["plans"],
            registry=registry,
        )
