"""NATS JetStream plumbing shared by the services: connect, declare the streams, publish events."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from twitch_archive.events import ChatEvent
from twitch_archive.subjects import HEADER_MSG_ID, Names

log = structlog.get_logger("twitch_archive.bus")


class StreamSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How the chat stream keeps events; tuned for one machine, raised for a cluster."""

    duplicate_window_s: float = 120.0
    """JetStream drops a second publish of one event id within this window (reconnect replays)."""
    max_age_s: float = 7 * 24 * 3600.0
    """Events stay this long after they were stored, so a writer outage of days loses nothing."""
    max_bytes: int = -1
    """Cap on the stream's disk use, oldest events dropped beyond it. JetStream reserves a cap
    up front, so -1 (none) leaves the bound to max_age and the server's storage limit."""
    replicas: int = 1
    """Stream replicas: 3 on a three-node NATS cluster."""


def nats_servers(url: str) -> list[str]:
    """NATS_URL as a server list: `nats://a:4222,nats://b:4222` names every node of a cluster,
    so a client starts (and fails over) whichever node is down."""
    return [part.strip() for part in url.split(",") if part.strip()]


async def connect_nats(url: str, *, name: str, **options: Any) -> NatsClient:
    """Connect to NATS (one URL, or several comma-separated), retrying forever in the
    background after the first connection."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=str(exc) or type(exc).__name__)

    async def on_disconnected() -> None:
        log.warning("nats_disconnected")

    async def on_reconnected() -> None:
        log.info("nats_reconnected")

    defaults: dict[str, Any] = {
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 1,
        "connect_timeout": 5,
        "error_cb": on_error,
        "disconnected_cb": on_disconnected,
        "reconnected_cb": on_reconnected,
    }
    return await nats.connect(nats_servers(url), **{**defaults, **options})


async def ensure_bucket(
    js: JetStreamContext, bucket: str, *, ttl_s: float | None = None, replicas: int = 1
) -> KeyValue:
    """Open a KV bucket, creating it (history 1, file storage) if it does not exist yet; safe
    when several replicas or services race to create it."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    config = js_api.KeyValueConfig(
        bucket=bucket, history=1, ttl=ttl_s, storage=js_api.StorageType.FILE, replicas=replicas
    )
    try:
        return await js.create_key_value(config)
    except BadRequestError:
        return await js.key_value(bucket)  # another process created it first


async def delete_namespace(nc: NatsClient, names: Names) -> None:
    """Delete every stream and KV bucket of `names` that exists (tests and benchmarks clean up
    their own namespace on a shared server with it)."""
    jsm = nc.jsm()
    for stream in names.jetstream_streams:
        with contextlib.suppress(NotFoundError):
            await jsm.delete_stream(stream)


async def _ensure_stream(js: JetStreamContext, config: js_api.StreamConfig) -> None:
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        try:
            await js.add_stream(config)
            log.info("stream_created", stream=config.name)
        except BadRequestError:
            # Another replica created it between our look-up and our add: that is fine.
            await js.stream_info(config.name or "")
        return
    await js.update_stream(config)


async def ensure_streams(
    js: JetStreamContext, names: Names, settings: StreamSettings | None = None
) -> None:
    """Create or update the chat stream and its dead-letter stream (idempotent, replica-safe)."""
    settings = settings or StreamSettings()
    await _ensure_stream(
        js,
        js_api.StreamConfig(
            name=names.chat_stream,
            description="Normalized Twitch chat events, one subject per channel and type",
            subjects=[names.chat_wildcard()],
            storage=js_api.StorageType.FILE,
            retention=js_api.RetentionPolicy.LIMITS,
            duplicate_window=settings.duplicate_window_s,
            max_age=settings.max_age_s,
            max_bytes=settings.max_bytes,
            num_replicas=settings.replicas,
        ),
    )
    await _ensure_stream(
        js,
        js_api.StreamConfig(
            name=names.deadletter_stream,
            description="Chat events the writer could not decode or store, with the reason",
            subjects=[names.deadletter_subject],
            storage=js_api.StorageType.FILE,
            retention=js_api.RetentionPolicy.LIMITS,
            max_age=30 * 24 * 3600.0,
            num_replicas=settings.replicas,
        ),
    )


def event_headers(event: ChatEvent) -> dict[str, str]:
    """Headers every published event carries: the event id for JetStream's de-duplication."""
    return {HEADER_MSG_ID: event.id}


def event_subject(names: Names, event: ChatEvent) -> str:
    """The subject an event is published on."""
    tag = type(event).__struct_config__.tag
    return names.chat_subject(event.channel, tag)  # type: ignore[arg-type]  # tags are EventType


async def publish_event(
    js: JetStreamContext, names: Names, event: ChatEvent, payload: bytes
) -> js_api.PubAck:
    """Publish one encoded event and wait for JetStream's ack (duplicates are acked too)."""
    return await js.publish(event_subject(names, event), payload, headers=event_headers(event))
