"""The ingestor's settings, read from environment variables (`IngestorSettings`, rename="upper")."""

from __future__ import annotations

import os
import re
import socket
from typing import Annotated

import msgspec

from twitch_archive.settings import DEFAULT_NATS_URL, CommaList, LogLevel, Secret
from twitch_archive.subjects import validate_channel

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]
NonNegativeSeconds = Annotated[float, msgspec.Meta(ge=0)]
ListenPort = Annotated[int, msgspec.Meta(ge=0, le=65535)]

_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def default_ingestor_id() -> str:
    """`<hostname>-<pid>`, with characters a KV key cannot hold replaced by `_`."""
    return _KEY_UNSAFE.sub("_", f"{socket.gethostname()}-{os.getpid()}")


class IngestorSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Every knob of the ingestor; the field `nats_url` reads `NATS_URL`."""

    twitch_irc_url: str = "wss://irc-ws.chat.twitch.tv:443"
    """Twitch's IRC WebSocket; point it at `twitch-archive simulate` for tests and demos."""
    twitch_username: str | None = None
    """Login to use with TWITCH_OAUTH_TOKEN; unset logs in anonymously as justinfanNNNN."""
    twitch_oauth_token: Secret | None = None
    """OAuth token (with or without `oauth:`) of TWITCH_USERNAME; never logged."""
    channels: CommaList = CommaList()
    """Seeds the desired channel set (KV bucket) on the very first start; later the API owns it."""

    nats_url: str = DEFAULT_NATS_URL
    """NATS with JetStream; the local server by default."""
    nats_namespace: str = ""
    """Prefix of every subject, stream and bucket (`""` in production, `t<runid>.` in tests)."""

    replication: PositiveInt = 1
    """Replicas that join each channel: 2 makes a replica restart lose nothing (dedupe by id)."""
    channels_per_connection: PositiveInt = 90
    """Channels per IRC connection: under Twitch's 100; a lost connection costs few channels."""
    joins_per_window: PositiveInt = 20
    """JOINs per login per JOIN_WINDOW_S: Twitch's limit for unverified and anonymous logins."""
    join_window_s: Seconds = 10.0
    """The window of the JOIN limit (Twitch: 10 s)."""
    join_timeout_s: Seconds = 20.0
    """A JOIN without Twitch's confirmation after this long counts as failed and is retried."""
    join_retry_max_s: Seconds = 300.0
    """Failed JOINs are retried with exponential backoff up to this (suspended channels mostly)."""
    connection_pacing_s: NonNegativeSeconds = 0.5
    """Seconds between opening two connections: Twitch allows 20 logins per 10 s per account."""
    keepalive_s: Seconds = 30.0
    """Send our own PING this often, so a dead TCP path shows up without waiting for Twitch."""
    silence_timeout_s: Seconds = 75.0
    """Nothing received for this long (not even our PONG) means the server is gone: reconnect."""
    backoff_min_s: Seconds = 1.0
    """First reconnect delay; doubles per failed attempt, with jitter."""
    backoff_max_s: Seconds = 60.0
    """Longest reconnect delay, so an outage of Twitch is retried at least once a minute."""

    max_in_flight: PositiveInt = 4000
    """Publishes awaiting JetStream's ack at once: ~60k msg/s from one process at 4,000."""
    publish_timeout_s: Seconds = 5.0
    """A publish without an ack after this long is sent again with the same id (dedupe)."""
    buffer_max_events: PositiveInt = 20_000
    """Events held while NATS is slow or down; beyond it the IRC sockets stop being read."""

    stream_max_bytes: Annotated[int, msgspec.Meta(ge=-1)] = -1
    """Cap on the chat stream's disk use (JetStream reserves a cap up front); -1: no cap of its
    own, so the stream is bounded by its age limit and the server's JetStream storage limit."""

    nats_replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    """Copies JetStream keeps of the chat stream, the dead-letter stream and the KV buckets
    when this replica creates them: 3 on a three-node NATS cluster, so a node can fail."""

    heartbeat_s: Seconds = 2.0
    """How often this replica renews its heartbeat in the ingestors KV bucket."""
    heartbeat_ttl_s: Seconds = 10.0
    """A replica not heard from for this long is dead and its channels move to the others."""
    handover_max_s: NonNegativeSeconds = 120.0
    """A channel handed to another replica stays joined here until that replica has joined it,
    at most this long (make-before-break; also bounds the wait at shutdown)."""
    ingestor_id: str = msgspec.field(default_factory=default_ingestor_id)
    """This replica's name in the ingestors bucket and in CoverageGap events: hostname-pid."""

    metrics_host: str = "0.0.0.0"  # noqa: S104 - scraped by Prometheus from other hosts
    """Interface of the /metrics, /healthz and /readyz server."""
    metrics_port: ListenPort = 9101
    """Port of the /metrics, /healthz and /readyz server (0: any free port)."""
    shutdown_timeout_s: Seconds = 30.0
    """Longest a SIGTERM waits for handover, PARTs and the last acks before exiting."""
    log_level: LogLevel = "info"
    """Log verbosity: debug, info, warning or error."""

    def __post_init__(self) -> None:
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError("BACKOFF_MAX_S must be at least BACKOFF_MIN_S")
        if _KEY_UNSAFE.search(self.ingestor_id) or not self.ingestor_id:
            raise ValueError("INGESTOR_ID may hold only A-Z, a-z, 0-9, _ and -")
        if (self.twitch_username is None) != (self.twitch_oauth_token is None):
            raise ValueError("set both TWITCH_USERNAME and TWITCH_OAUTH_TOKEN, or neither")
        for item in self.channels:
            validate_channel(item.strip().lstrip("#").lower())
