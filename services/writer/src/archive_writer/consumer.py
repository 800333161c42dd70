"""The durable JetStream pull consumer all writer replicas share, pulled with a bounded window.

nats-py's `fetch()` spends most of its time on a task, a timer and a uuid per message. This pulls
the same way nats.go's `Consume()` does: a few pull requests stay in flight on one inbox, each for
`fetch_batch` messages, and new ones go out only while the messages this replica holds (delivered,
not yet acked) plus those it asked for stay under its window. A replica that cannot store stops
asking: its memory is bounded by the window, the whole consumer by `max_ack_pending`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Sequence
from typing import Final

import msgspec
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import ConnectionClosedError, OutboundBufferLimitError
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from archive_writer.metrics import WriterMetrics
from twitch_archive.bus import ensure_streams
from twitch_archive.subjects import Names

log = structlog.get_logger("archive_writer.consumer")

JS_API_PREFIX: Final = "$JS.API"
"""JetStream's API subject prefix (no JetStream domain is used)."""
PULL_EXPIRES_S: Final = 2.0
"""A pull request lingers at most this long: short, so a stopping writer is not sent messages
for long after its last request, and lost requests (reconnects) are noticed quickly."""
_STATUS: Final = js_api.Header.STATUS.value
_ACK_CHUNK: Final = 2_000
"""Acks are written this many at a time before yielding to the event loop."""
_REQUEST_GRACE_S: Final = 1.0

_encoder = msgspec.json.Encoder()


class ConsumerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What the shared durable consumer looks like."""

    max_ack_pending: int
    ack_wait_s: float
    fetch_batch: int
    window: int
    """Messages this replica may hold (delivered, not yet acked) plus those it asked for."""


class _Request:
    """One pull request in flight: how many messages it may still bring, and until when."""

    __slots__ = ("deadline", "remaining")

    def __init__(self, remaining: int, deadline: float) -> None:
        self.remaining = remaining
        self.deadline = deadline


class PullConsumer:
    """Pulls chat events from the writers' durable consumer; hands out delivered messages."""

    def __init__(
        self,
        nc: NatsClient,
        names: Names,
        config: ConsumerConfig,
        metrics: WriterMetrics,
    ) -> None:
        self._nc = nc
        self._js: JetStreamContext = nc.jetstream()
        self._names = names
        self._config = config
        self._metrics = metrics
        self._inbox = ""
        self._pull_subject = (
            f"{JS_API_PREFIX}.CONSUMER.MSG.NEXT.{names.chat_stream}.{names.writer_durable}"
        )
        self._sub: Subscription | None = None
        self._ready: list[Msg] = []
        self._arrived = asyncio.Event()
        self._requests: collections.deque[_Request] = collections.deque()
        self._asked = 0
        self.held = 0
        """Messages delivered to this replica and not yet acked, nak'd or dead-lettered."""
        self._stopping = False
        self._closed = False
        self._pulling = False
        metrics.queue_capacity.labels("inflight").set(config.window)

    # ------------------------------------------------------------------ set-up

    async def start(self) -> None:
        """Make sure the streams and the durable consumer exist, then start pulling."""
        await self.ensure()
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(
            self._inbox,
            cb=self._on_msg,
            pending_msgs_limit=max(self._config.window * 2, 65_536),
            pending_bytes_limit=0,  # the window bounds it; 0 turns nats-py's byte limit off
        )
        await self._pull()

    async def ensure(self) -> None:
        """Create the streams when missing (never reconfigure them) and create or update the
        durable consumer with this replica's limits (every replica sets the same)."""
        for stream in (self._names.chat_stream, self._names.deadletter_stream):
            try:
                await self._js.stream_info(stream)
            except NotFoundError:
                await ensure_streams(self._js, self._names)
                break
        durable = self._names.writer_durable
        await self._js.add_consumer(
            self._names.chat_stream,
            js_api.ConsumerConfig(
                name=durable,
                durable_name=durable,
                description="Archive writers: every chat event into PostgreSQL",
                deliver_policy=js_api.DeliverPolicy.ALL,
                ack_policy=js_api.AckPolicy.EXPLICIT,
                ack_wait=self._config.ack_wait_s,
                max_deliver=-1,
                max_ack_pending=self._config.max_ack_pending,
                filter_subject=self._names.chat_wildcard(),
            ),
        )
        log.info(
            "consumer_ready",
            stream=self._names.chat_stream,
            durable=durable,
            max_ack_pending=self._config.max_ack_pending,
        )

    # ------------------------------------------------------------------ pulling

    async def _pull(self) -> None:
        """Ask for more messages while the window has room (never two of us at once)."""
        if self._pulling or self._stopping or self._sub is None:
            return
        self._pulling = True
        try:
            now = time.monotonic()
            requests = self._requests
            while requests and requests[0].deadline < now:
                self._asked -= requests.popleft().remaining
            window = self._config.window
            step = min(self._config.fetch_batch, window)
            while (room := window - self.held - self._asked) >= step:
                ask = min(self._config.fetch_batch, room)
                payload = _encoder.encode(
                    {"batch": ask, "expires": int(PULL_EXPIRES_S * 1_000_000_000)}
                )
                await self._nc.publish(self._pull_subject, payload, reply=self._inbox)
                requests.append(_Request(ask, now + PULL_EXPIRES_S + _REQUEST_GRACE_S))
                self._asked += ask
        except (ConnectionClosedError, OutboundBufferLimitError) as exc:
            # Disconnected: the next take() or reset() after the reconnection pulls again.
            log.debug("pull_deferred", error=type(exc).__name__)
        finally:
            self._pulling = False
        self._metrics.queue_depth.labels("inflight").set(self.held)

    def _delivered(self) -> None:
        requests = self._requests
        if requests:
            head = requests[0]
            head.remaining -= 1
            self._asked -= 1
            if head.remaining <= 0:
                requests.popleft()

    async def _on_msg(self, msg: Msg) -> None:
        if msg.reply:  # a delivery; status messages (timeouts, heartbeats) carry no reply
            self._delivered()
            if self._closed:
                # Too late for the last batch: redelivered at once to another replica instead
                # of after ack_wait.
                await _quietly(msg.nak())
                return
            self.held += 1
            self._ready.append(msg)
            self._arrived.set()
            return
        status = (msg.headers or {}).get(_STATUS)
        if status in ("408", "409") and self._requests:
            # This request expired or was refused: forget what it still owed us.
            self._asked -= self._requests.popleft().remaining
            await self._pull()

    async def take(self, timeout: float) -> list[Msg]:  # noqa: ASYNC109 - the batcher's age deadline
        """Everything delivered so far, waiting up to `timeout` seconds for at least one."""
        if not self._ready and timeout > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):  # the deadline passed with nothing new
                async with asyncio.timeout(timeout):
                    await self._arrived.wait()
        msgs, self._ready = self._ready, []
        if msgs:
            self._metrics.events_received.inc(len(msgs))
        await self._pull()
        return msgs

    async def reset(self) -> None:
        """Forget the pull requests in flight (a reconnected server may have lost them)."""
        self._requests.clear()
        self._asked = 0
        await self._pull()

    # ------------------------------------------------------------------ settling

    async def ack(self, msgs: Sequence[Msg]) -> None:
        """Acknowledge stored messages, yielding to the loop now and then; frees window room."""
        try:
            for start in range(0, len(msgs), _ACK_CHUNK):
                for msg in msgs[start : start + _ACK_CHUNK]:
                    await msg.ack()
                await asyncio.sleep(0)
        except (ConnectionClosedError, OutboundBufferLimitError) as exc:
            # Unacked messages come back after ack_wait and are then ignored as duplicates.
            log.warning("ack_failed", error=type(exc).__name__, messages=len(msgs))
        await self.release(len(msgs))

    async def release(self, count: int) -> None:
        """`count` held messages were settled (acked, nak'd, dead-lettered): pull more."""
        self.held -= count
        await self._pull()

    async def nak(self, msgs: Sequence[Msg]) -> None:
        """Give messages back for immediate redelivery (a full buffer, a shutdown)."""
        for msg in msgs:
            await _quietly(msg.nak())
        await self.release(len(msgs))

    async def keep_alive(self, msgs: Sequence[Msg]) -> None:
        """Tell JetStream these messages are still being worked on (resets their ack_wait)."""
        for start in range(0, len(msgs), _ACK_CHUNK):
            for msg in msgs[start : start + _ACK_CHUNK]:
                await _quietly(msg.in_progress())
            await asyncio.sleep(0)

    # ------------------------------------------------------------------ stopping

    def stop(self) -> None:
        """Ask for nothing more (messages of the requests in flight still arrive)."""
        self._stopping = True
        self._arrived.set()  # wake the intake now rather than at its next deadline

    def close(self) -> None:
        """After the last batch was taken: messages still arriving are nak'd."""
        self._closed = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def drained(self) -> None:
        """Wait until no pull request of ours can still bring messages (at most about
        PULL_EXPIRES_S after `stop()`): what they bring still goes into the last batch."""
        while self._requests:
            wait = self._requests[-1].deadline - _REQUEST_GRACE_S - time.monotonic()
            if wait <= 0:
                break
            await asyncio.sleep(min(wait, 0.1))
        self._requests.clear()
        self._asked = 0

    async def leftovers(self) -> list[Msg]:
        """Messages delivered but never taken (a stop between deliveries and take)."""
        msgs, self._ready = self._ready, []
        return msgs

    # ------------------------------------------------------------------ lag

    async def poll_lag(self) -> None:
        """Read the consumer's pending counts into the lag gauges."""
        info = await self._js.consumer_info(self._names.chat_stream, self._names.writer_durable)
        self._metrics.consumer_lag.set(info.num_pending or 0)
        self._metrics.consumer_ack_pending.set(info.num_ack_pending or 0)


async def _quietly(settle: Awaitable[None]) -> None:
    """Await a nak/in-progress whose loss only delays a redelivery."""
    try:
        await settle
    except (ConnectionClosedError, OutboundBufferLimitError):
        return
