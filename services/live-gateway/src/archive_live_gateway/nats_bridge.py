"""NATS subscriptions for exactly the channels someone watches, and one decode per event.

Each watched channel has one core subscription on `{ns}chat.<channel>.>`; the firehose has one on
`{ns}chat.>`. An event is decoded and encoded once and handed to the hub with its frame. Core
subscribers see every publish, JetStream's duplicate window notwithstanding, so the bridge drops
what it already delivered: identical bytes reuse their frame (the firehose's copy of a watched
channel's event, a second ingestor's copy), and an event id delivered once is not sent again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from typing import Final

import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.errors import SlowConsumerError
from nats.errors import TimeoutError as NatsTimeoutError

from archive_live_gateway.errors import BridgeError
from archive_live_gateway.hub import Hub
from archive_live_gateway.metrics import EVENT_TYPES, GatewayMetrics
from archive_live_gateway.protocol import FIREHOSE, Frame, event_frame
from twitch_archive.codec import decode_event
from twitch_archive.errors import ContractError
from twitch_archive.subjects import Names

log = structlog.get_logger("archive_live_gateway.nats_bridge")

FLUSH_TIMEOUT_S: Final = 2
"""How long a new subscription waits for NATS to confirm it before the client is acknowledged
anyway (while NATS reconnects, the client library re-subscribes by itself)."""
RECENT_PAYLOADS: Final = 4096
"""Latest raw payloads kept with their frame, so a second copy of the same bytes (firehose and
channel subscription, or two ingestors) is not decoded again."""
DEDUPE_IDS: Final = 65_536
"""Latest event ids delivered (13 s at 5,000 events/s): a second publish of one event (ingestor
replication, a publish retry) within them is not sent twice. About 10 MB."""
_VIA_CHANNEL: Final = 1
_VIA_FIREHOSE: Final = 2
LOG_EVERY_S: Final = 10.0
"""Repeated warnings (undecodable events, NATS slow consumer) are logged at most this often."""
RETRY_S: Final = 1.0
"""Wait before retrying a subscription change NATS refused."""


class Throttled:
    """Counts occurrences and says whether this one should be logged (at most once a period)."""

    def __init__(self, period_s: float = LOG_EVERY_S) -> None:
        self.period_s = period_s
        self.suppressed = 0
        self._last = -period_s

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.period_s:
            self._last = now
            return True
        self.suppressed += 1
        return False

    def take_suppressed(self) -> int:
        count, self.suppressed = self.suppressed, 0
        return count


class NatsBridge:
    """Keeps one NATS subscription per wanted key and hands every event's frame to the hub."""

    def __init__(
        self,
        nc: NatsClient,
        names: Names,
        hub: Hub,
        metrics: GatewayMetrics,
        *,
        pending_msgs: int,
        pending_bytes: int,
    ) -> None:
        self.nc = nc
        self.names = names
        self.hub = hub
        self.metrics = metrics
        self.pending_msgs = pending_msgs
        self.pending_bytes = pending_bytes
        self._subs: dict[str, Subscription] = {}
        self._lock = asyncio.Lock()
        self._dirty: set[str] = set()
        self._reconciler: asyncio.Task[None] | None = None
        # Bounded FIFOs: OrderedDict drops its oldest entry in O(1), where `del d[next(iter(d))]`
        # on a plain dict scans the holes earlier deletions left (22 us a call at 65,536 ids).
        self._recent: OrderedDict[bytes, tuple[str, Frame | None]] = OrderedDict()
        self._delivered: OrderedDict[str, int] = OrderedDict()
        self._duplicates = metrics.events_duplicate
        self._received = {kind: metrics.events_received.labels(kind) for kind in EVENT_TYPES}
        self._nats_dropped = metrics.queue_dropped.labels("nats", "slow_consumer")
        self._invalid_log = Throttled()
        self._slow_log = Throttled()

    # ------------------------------------------------------------------ state

    @property
    def subscribed(self) -> frozenset[str]:
        """The keys this replica holds a NATS subscription for."""
        return frozenset(self._subs)

    def pending_events(self) -> int:
        """Events received from NATS and not yet handled, all subscriptions together."""
        return sum(sub.pending_msgs for sub in self._subs.values())

    def pending_capacity(self) -> int:
        """Events the subscriptions may hold before NATS drops some."""
        return self.pending_msgs * len(self._subs)

    def subject(self, key: str) -> str:
        """The subject behind a key: one channel's events, or every event for `*`."""
        return self.names.chat_wildcard() if key == FIREHOSE else self.names.channel_wildcard(key)

    # ------------------------------------------------------------------ subscriptions

    async def sync(self, keys: Collection[str]) -> None:
        """Subscribe to the `keys` the hub wants, unsubscribe from those it no longer does.

        Returns once NATS confirmed new subscriptions (or FLUSH_TIMEOUT_S passed); raises
        BridgeError if NATS refuses (connection closed or draining).
        """
        async with self._lock:
            added = False
            try:
                for key in keys:
                    wanted, sub = self.hub.wanted(key), self._subs.get(key)
                    if wanted and sub is None:
                        self._subs[key] = await self.nc.subscribe(
                            self.subject(key),
                            cb=self._callback(key),
                            pending_msgs_limit=self.pending_msgs,
                            pending_bytes_limit=self.pending_bytes,
                        )
                        added = True
                    elif not wanted and sub is not None:
                        del self._subs[key]
                        await sub.unsubscribe()
            except NatsError as exc:
                raise BridgeError(f"NATS refused a subscription change: {exc!r}") from exc
            finally:
                self.metrics.nats_subscriptions.set(len(self._subs))
            if added:
                await self._confirm()

    async def _confirm(self) -> None:
        """Return once NATS has the new subscriptions (a PING answered after their SUBs).

        Twice: nats-py 2.16 writes a flush's PING straight to the socket, ahead of SUBs still in
        its pending buffer, so the first PONG can come back before the server saw them (an event
        published right after the acknowledgement was then lost, about once in forty). While the
        first round trip is under way the client's flusher sends the SUBs; the second PING
        follows them.
        """
        try:
            await self.nc.flush(timeout=FLUSH_TIMEOUT_S)
            await self.nc.flush(timeout=FLUSH_TIMEOUT_S)
        except (NatsTimeoutError, NatsError) as exc:
            log.warning("nats_flush_failed", error=repr(exc))

    def request_sync(self, keys: Collection[str]) -> None:
        """`sync(keys)` in the background (after unsubscribes and disconnects), coalesced."""
        if not keys:
            return
        self._dirty.update(keys)
        if self._reconciler is None or self._reconciler.done():
            self._reconciler = asyncio.get_running_loop().create_task(self._reconcile())

    async def _reconcile(self) -> None:
        # Started from some connection's task: its log fields are not this task's.
        structlog.contextvars.unbind_contextvars("conn_id", "peer")
        while self._dirty:
            keys, self._dirty = self._dirty, set()
            try:
                await self.sync(keys)
            except Exception as exc:  # noqa: BLE001 - task boundary: count, log, retry later
                self.metrics.task_errors.labels("nats_sync").inc()
                log.warning("nats_sync_failed", keys=len(keys), error=repr(exc))
                self._dirty.update(keys)
                await asyncio.sleep(RETRY_S)
                if self.nc.is_closed:
                    return

    async def close(self) -> None:
        """Stop the background work and drop every subscription (before NATS drains)."""
        if self._reconciler is not None:
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
        async with self._lock:
            subs, self._subs = list(self._subs.values()), {}
            self.metrics.nats_subscriptions.set(0)
            for sub in subs:
                try:
                    await sub.unsubscribe()
                except NatsError as exc:
                    log.debug("nats_unsubscribe_failed", error=repr(exc))

    # ------------------------------------------------------------------ events

    def _callback(self, key: str) -> Callable[[Msg], Awaitable[None]]:
        handle = self.handle

        async def on_message(msg: Msg) -> None:
            handle(key, msg.subject, msg.data)

        return on_message

    def handle(self, key: str, subject: str, data: bytes) -> int:
        """Decode one event (once), frame it (once) and hand it to the watchers of `key`.

        The same bytes seen again (the firehose's copy of a watched channel's event, or a second
        ingestor's copy) reuse the first frame; an event id already delivered through `key` (a
        duplicate publish) is skipped.
        """
        recent = self._recent
        cached = recent.get(data)
        if cached is None:
            try:
                event = decode_event(data)
            except ContractError as exc:
                self.metrics.events_invalid.inc()
                if self._invalid_log.due():
                    log.warning(
                        "event_undecodable",
                        subject=subject,
                        reason=exc.reason,
                        also_since_last=self._invalid_log.take_suppressed(),
                    )
                return 0
            self._received[str(type(event).__struct_config__.tag)].inc()
            cached = (event.id, event_frame(event))
            if len(recent) >= RECENT_PAYLOADS:
                recent.popitem(last=False)
            recent[data] = cached
        event_id, frame = cached
        via = _VIA_FIREHOSE if key == FIREHOSE else _VIA_CHANNEL
        delivered = self._delivered
        seen = delivered.get(event_id, 0)
        if seen & via:
            self._duplicates.inc()
            return 0
        if not seen and len(delivered) >= DEDUPE_IDS:
            delivered.popitem(last=False)
        delivered[event_id] = seen | via
        return 0 if frame is None else self.hub.deliver(key, frame)

    async def on_nats_error(self, exc: Exception) -> None:
        """The NATS client's error callback: counts events NATS dropped for a slow subscription."""
        if isinstance(exc, SlowConsumerError):
            self._nats_dropped.inc()
            if self._slow_log.due():
                log.warning(
                    "nats_slow_consumer",
                    subject=exc.subject,
                    also_since_last=self._slow_log.take_suppressed(),
                )
            return
        log.warning("nats_error", error=str(exc) or type(exc).__name__)
