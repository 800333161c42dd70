"""The gateway's settings: one frozen Struct read from the environment (docs/configuration.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from twitch_archive.settings import DEFAULT_NATS_URL, CommaList, LogLevel


class GatewaySettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Where the gateway listens, what it subscribes to, and the bounds of every connection.

    Defaults are tuned for 1,000 clients over 50 channels at 5,000 events/s on 2 cores
    (bench/bench_gateway.py).
    """

    nats_url: str = DEFAULT_NATS_URL
    """NATS server the chat events are read from (core subscriptions); the local one by default."""
    nats_namespace: str = ""
    """Prefix of every subject: empty in production, `t<runid>.` in tests."""
    gateway_host: str = "127.0.0.1"
    """Interface the WebSocket and ops endpoints listen on; loopback for local use, `0.0.0.0`
    behind a load balancer or in a container."""
    gateway_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8001
    """Port of /api/live, /healthz, /readyz and /metrics; 0 picks a free one (tests)."""
    allowed_origins: CommaList = CommaList()
    """Origins (`https://archive.example`) whose pages may open the feed. Empty allows any
    origin, for local use: set it in production so other sites' pages cannot use a visitor's
    browser against the feed. Requests without an Origin header (non-browser clients) pass."""
    allow_firehose: bool = False
    """Whether a client may subscribe to `*`, every channel at once: off by default because one
    firehose client costs as much as a watcher on every channel."""
    max_subscriptions: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100
    """Channels one connection may watch at once (the firehose counts as one)."""
    client_frames_per_second: Annotated[float, msgspec.Meta(gt=0, le=10_000)] = 5.0
    """Frames a client may send per second, with bursts of twice that; a frame over the limit
    gets a `rate_limited` error, and a client that keeps it up (more than ten seconds' worth of
    refused frames in ten seconds) is closed with 1008."""
    send_queue_max: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 512
    """Frames that may wait for one client while its socket is backed up (its kernel buffer and
    the transport's 64 KiB are full): one more and the client is closed with 4008 "slow
    consumer". 512 is five seconds of a busy channel; frames are shared between clients, so a
    queue holds references, not copies."""
    flush_interval_ms: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 20.0
    """Frames for clients are written at most this often: under load the frames of one interval
    share one socket write per client (on loopback a write costs 10-40 us of CPU, whatever its
    size), at the price of up to this much delay; a quiet feed is written at once. 0 writes at
    the end of every event-loop iteration."""
    send_buffer_bytes: Annotated[int, msgspec.Meta(ge=64 * 1024, le=64 * 1024 * 1024)] = 256 * 1024
    """Kernel send buffer (SO_SNDBUF) of each connection, so a stalled client fills its queue
    within seconds rather than after megabytes of kernel autotuning. At least 64 KiB: below one
    loopback segment (64 KiB) Linux stalls the stream even for a client that reads."""
    heartbeat_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    """Seconds of silence before the gateway pings a client; a client that does not answer
    within half of it is closed as dead."""
    max_frame_bytes: Annotated[int, msgspec.Meta(ge=64, le=1024 * 1024)] = 8192
    """Largest client frame read as a request (a subscribe to 100 channels is about 3 KB); a
    larger one gets a `frame_too_large` error. Frames beyond 4 x this (at least 64 KiB) are not
    buffered at all: the connection is closed with 1009."""
    nats_pending_msgs: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 65_536
    """Events one NATS subscription may hold before the gateway handles them; beyond, NATS drops
    them and archive_live_gateway_queue_dropped_total{queue="nats"} counts them."""
    nats_pending_bytes: Annotated[int, msgspec.Meta(ge=1024, le=4 * 1024**3)] = 64 * 1024 * 1024
    """Bytes one NATS subscription may hold before the gateway handles them (same rule)."""
    shutdown_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0
    """On SIGTERM, how long clients get to take their close frame (1001) before they are cut."""
    log_level: LogLevel = "info"
    """Log verbosity: debug, info, warning or error."""
