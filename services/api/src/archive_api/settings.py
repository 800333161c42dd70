"""The api's settings: one frozen Struct read from the environment (docs/configuration.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from twitch_archive.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_NATS_URL,
    DEFAULT_REDIS_URL,
    CommaList,
    LogLevel,
    Secret,
)


class ApiSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Where the api reads from, how it limits and caches, and what it serves."""

    database_url: str = DEFAULT_DATABASE_URL
    """PostgreSQL holding the archive schema; the local server by default."""
    nats_url: str = DEFAULT_NATS_URL
    """NATS server: channel management writes the KV bucket and notifies ingestors through it."""
    nats_namespace: str = ""
    """Prefix of every subject and bucket: empty in production, `t<runid>.` in tests."""
    nats_replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    """Copies JetStream keeps of the channels KV bucket if the api creates it: 3 on a
    three-node NATS cluster."""
    redis_url: str = DEFAULT_REDIS_URL
    """Redis shared by every replica: rate-limit counters and the stats cache."""
    redis_prefix: str = "archive:"
    """Prefix of every Redis key the api writes (`<prefix>rl:...`, `<prefix>cache:...`)."""
    api_host: str = "127.0.0.1"
    """Interface to listen on; `0.0.0.0` in a container."""
    api_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    """Port of the HTTP server (0: any free port)."""
    admin_token: Secret | None = None
    """Bearer token of the channel-management endpoints; unset disables them (403)."""
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 100
    """Requests per client IP per minute over all replicas (the seed's 100); 0 disables it."""
    cache_ttl_s: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 10.0
    """How long aggregate answers (stats, channel totals) stay cached in Redis; 0 disables."""
    cors_origins: CommaList = CommaList()
    """Origins allowed by CORS (comma-separated, `*` for any); empty: no CORS headers."""
    total_count_cap: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 1_000
    """`total` is counted exactly up to this many rows, beyond it `totalIsExact` is false."""
    max_offset: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 10_000
    """Largest `offset` accepted; deeper pages use the cursor (offsets scan what they skip)."""
    web_dist: str | None = None
    """Folder of the built dashboard (web/dist) served at `/`, with index.html for client
    routes; unset or missing: not served."""
    live_url: str | None = None
    """WebSocket URL of the live gateway that `GET /api/config` hands the dashboard: absolute
    (`wss://live.example/api/live`) or a path on the dashboard's own origin (`/api/live`, behind
    a proxy that routes it to the gateway). Unset: the host the page was loaded from, on
    GATEWAY_PORT, which is how `make run` lays the services out."""
    gateway_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8001
    """Port of the live gateway on the api's host, for the default `live_url`."""
    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose X-Forwarded-For is trusted for the client IP (uvicorn's option)."""
    db_pool_min: Annotated[int, msgspec.Meta(ge=0, le=100)] = 2
    """PostgreSQL connections kept open in each of the two pools."""
    db_pool_max: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    """PostgreSQL connections at most per replica (two at least), split evenly between the pool
    that plans each query and the one that keeps generic plans for message pages: 2 cores serve
    about 10 queries at once."""
    statement_timeout_ms: Annotated[int, msgspec.Meta(ge=100, le=600_000)] = 10_000
    """A query running longer is cancelled (the request gets 503), so one bad query cannot
    hold a connection for long."""
    export_statement_timeout_ms: Annotated[int, msgspec.Meta(ge=1000, le=86_400_000)] = 600_000
    """Statement timeout of NDJSON/CSV exports, which stream a cursor for long."""
    redis_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.2
    """Redis operations taking longer count as Redis down (the api then fails open)."""
    redis_retry_s: Annotated[float, msgspec.Meta(ge=0, le=600)] = 2.0
    """After a Redis failure, how long requests skip Redis before trying it again."""
    log_level: LogLevel = "info"
    """Log verbosity: debug, info, warning or error."""
