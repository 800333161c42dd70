"""One WebSocket client: its bounded send queue, its rate limit, and its conversation.

Frames reach a socket through the Outbox: fan-out only appends shared frames to each watcher's
queue; once per event-loop iteration every client with frames gets one socket write. While the
socket's buffer is over its high-water mark, frames wait in the queue; a client whose queue
reaches SEND_QUEUE_MAX that way cannot keep up and is closed with 4008.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

import structlog

from archive_live_gateway.errors import BridgeError, ErrorCode, ProtocolError
from archive_live_gateway.metrics import GatewayMetrics
from archive_live_gateway.protocol import (
    FIREHOSE,
    Frame,
    Request,
    ack_frame,
    error_frame,
    parse_request,
)

if TYPE_CHECKING:
    from archive_live_gateway.hub import Hub
    from archive_live_gateway.nats_bridge import NatsBridge

log = structlog.get_logger("archive_live_gateway.client")

CLOSE_TIMEOUT_S: Final = 5.0
"""A client being closed gets this long to take its close frame; then the socket is cut, so a
client that stopped reading can never pin the gateway's buffers."""
ABUSE_WINDOW_S: Final = 10.0
"""The rate limit's close rule counts refused frames over windows this long."""


@dataclass(frozen=True, slots=True)
class CloseReason:
    """Why the gateway closes a connection: the metric label, the close code, the reason text."""

    label: str
    code: int
    message: str


SLOW_CONSUMER: Final = CloseReason("slow_consumer", 4008, "slow consumer")
RATE_LIMIT: Final = CloseReason("rate_limit", 1008, "rate limit exceeded")
SHUTDOWN: Final = CloseReason("shutdown", 1001, "going away")


class Verdict(enum.Enum):
    """What the rate limiter says about one client frame."""

    ALLOW = "allow"
    REFUSE = "refuse"
    CLOSE = "close"


class RateLimiter:
    """A token bucket of client frames (`rate`/s, bursts of `2 x rate`), and a close rule.

    A client whose refused frames within one ABUSE_WINDOW_S exceed that window's worth of its
    rate (it sends at least twice what it may, for the whole window) is closed.
    """

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.burst = max(1.0, 2.0 * rate)
        self.tokens = self.burst
        self.updated = now
        self.abuse_limit = max(10, int(rate * ABUSE_WINDOW_S))
        self.window_start = now
        self.refused_in_window = 0

    def check(self, now: float) -> Verdict:
        """Spend a token for one frame at `now` (monotonic seconds)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return Verdict.ALLOW
        if now - self.window_start >= ABUSE_WINDOW_S:
            self.window_start, self.refused_in_window = now, 0
        self.refused_in_window += 1
        return Verdict.CLOSE if self.refused_in_window > self.abuse_limit else Verdict.REFUSE


class Sink(Protocol):
    """The socket under a client: raw writes with flow control, and closing."""

    def write(self, data: bytes) -> None:
        """Write bytes (whole WebSocket frames) to the socket, without waiting."""

    @property
    def paused(self) -> bool:
        """True while the transport's buffer is above its high-water mark."""

    async def drain(self) -> None:
        """Return once the transport's buffer went below its low-water mark."""

    async def close(self, code: int, message: str) -> None:
        """Send a close frame and wait for the close handshake."""

    def abort(self) -> None:
        """Cut the connection now, dropping whatever is still buffered."""


class Outbox:
    """Writes the frames queued for clients: every client with frames gets one socket write.

    A flush runs at the end of the loop iteration that queued the first frame, but at most once
    every `interval_s`: under load, frames that arrive within the interval share one write (a
    system call costs far more than the bytes), while a quiet feed is written at once.
    """

    def __init__(
        self, metrics: GatewayMetrics, loop: asyncio.AbstractEventLoop, interval_s: float = 0.0
    ) -> None:
        self.metrics = metrics
        self.interval_s = interval_s
        self._loop = loop
        self._dirty: list[Client] = []
        self._scheduled = False
        self._next_flush = 0.0

    def mark(self, client: Client) -> None:
        """`client` has frames to write: write them with the next flush."""
        self._dirty.append(client)
        if not self._scheduled:
            self._scheduled = True
            loop = self._loop
            if loop.time() >= self._next_flush:
                loop.call_soon(self._flush)
            else:
                loop.call_at(self._next_flush, self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        self._next_flush = self._loop.time() + self.interval_s
        dirty, self._dirty = self._dirty, []
        now_ms = time.time() * 1000.0
        for client in dirty:
            client.flush(now_ms)


_conn_ids = itertools.count(1)


class Client:
    """One connection's subscriptions, bounded send queue and counters."""

    def __init__(
        self,
        sink: Sink,
        outbox: Outbox,
        metrics: GatewayMetrics,
        *,
        capacity: int,
        conn_id: str | None = None,
    ) -> None:
        self.sink = sink
        self.outbox = outbox
        self.metrics = metrics
        self.capacity = capacity
        self.conn_id = conn_id or f"c{next(_conn_ids)}"
        self.channels: set[str] = set()
        """Channels watched, `*` for the firehose."""
        self.firehose = False
        """True while the client receives every event through the firehose subscription."""
        self.queue: deque[Frame] = deque()
        self.dirty = False
        self.closing: CloseReason | None = None
        self.frames_out = 0
        self.bytes_out = 0
        self.max_queued = 0
        self._drain_task: asyncio.Task[None] | None = None
        self._close_task: asyncio.Task[None] | None = None

    def send(self, frame: Frame) -> bool:
        """Queue a frame (shared, not copied); False if the client is gone or was just dropped."""
        if self.closing is not None:
            return False
        queue = self.queue
        if len(queue) >= self.capacity:
            if not self.sink.paused:
                # A burst, not a slow client: the socket still takes data, so write now.
                self.flush(time.time() * 1000.0)
            if len(queue) >= self.capacity:
                self.metrics.queue_dropped.labels("client_send", "full").inc()
                self.drop(SLOW_CONSUMER)
                return False
        queue.append(frame)
        if not self.dirty:
            self.dirty = True
            self.outbox.mark(self)
        return True

    def flush(self, now_ms: float) -> None:
        """Write every queued frame in one go, unless the socket is backed up (then wait)."""
        self.dirty = False
        queue = self.queue
        if self.closing is not None or not queue:
            return
        if self.sink.paused:
            if len(queue) > self.max_queued:
                self.max_queued = len(queue)
            if self._drain_task is None:
                self._drain_task = asyncio.get_running_loop().create_task(self._wait_for_drain())
            return
        count = len(queue)
        first = queue[0]
        ts = first.ts_ms
        if count == 1:
            data = first.wire
        else:
            data = b"".join([frame.wire for frame in queue])
            if ts is None:  # a reply first: the oldest event frame gives the delay
                ts = next((frame.ts_ms for frame in queue if frame.ts_ms is not None), None)
        queue.clear()
        self.sink.write(data)
        self.frames_out += count
        self.bytes_out += len(data)
        if ts is not None:
            self.metrics.delivery_delay.observe(max(0.0, (now_ms - ts) / 1000.0), count)

    async def _wait_for_drain(self) -> None:
        try:
            await self.sink.drain()
        except ConnectionError:
            return  # the connection is gone; the session ends on its own
        finally:
            self._drain_task = None
        if self.queue and not self.dirty and self.closing is None:
            self.dirty = True
            self.outbox.mark(self)

    def drop(self, reason: CloseReason) -> None:
        """Close the connection for `reason` (once); its queued frames are discarded."""
        if self.closing is not None:
            return
        self.closing = reason
        self.queue.clear()
        if reason is not SHUTDOWN:
            self.metrics.clients_dropped.labels(reason.label).inc()
        self._close_task = asyncio.get_running_loop().create_task(self._close(reason))

    async def _close(self, reason: CloseReason) -> None:
        try:
            await asyncio.wait_for(self.sink.close(reason.code, reason.message), CLOSE_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            self.sink.abort()

    async def closed(self) -> None:
        """Wait for a close the gateway started (if any) to finish."""
        if self._close_task is not None:
            await asyncio.shield(self._close_task)

    def subscriptions(self) -> tuple[str, ...]:
        """What the client watches, sorted (`*` first)."""
        return tuple(sorted(self.channels))


@dataclass(slots=True)
class SessionStats:
    """Counters of one connection, for its canonical log line."""

    frames_in: int = 0
    frames_refused: int = 0
    max_channels: int = 0
    refused: dict[str, int] | None = None


class Session:
    """The conversation with one client: requests in, acknowledgements and errors out."""

    def __init__(
        self,
        client: Client,
        hub: Hub,
        bridge: NatsBridge,
        metrics: GatewayMetrics,
        *,
        max_frame_bytes: int,
        max_subscriptions: int,
        allow_firehose: bool,
        frames_per_second: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.hub = hub
        self.bridge = bridge
        self.metrics = metrics
        self.max_frame_bytes = max_frame_bytes
        self.max_subscriptions = max_subscriptions
        self.allow_firehose = allow_firehose
        self.clock = clock
        self.limiter = RateLimiter(frames_per_second, clock())
        self.stats = SessionStats()

    async def on_text(self, data: str) -> None:
        """Handle one text frame."""
        if not self._admit():
            return
        try:
            request = parse_request(
                data, max_bytes=self.max_frame_bytes, max_channels=self.max_subscriptions
            )
            if request.action == "subscribe":
                await self._subscribe(request)
            else:
                self._unsubscribe(request)
        except ProtocolError as exc:
            self.refuse(exc.code, exc.detail)
            return
        self.metrics.client_frames.labels(request.action).inc()

    def on_binary(self) -> None:
        """Refuse a binary frame (the protocol is JSON text)."""
        if self._admit():
            self.refuse(ErrorCode.BINARY_FRAME, "frames must be JSON text, not binary")

    def _admit(self) -> bool:
        self.stats.frames_in += 1
        verdict = self.limiter.check(self.clock())
        if verdict is Verdict.ALLOW:
            return True
        if verdict is Verdict.CLOSE:
            self.client.drop(RATE_LIMIT)
            return False
        self.refuse(
            ErrorCode.RATE_LIMITED,
            f"more than {self.limiter.rate:g} frames per second; this frame was ignored",
        )
        return False

    def refuse(self, code: ErrorCode, detail: str) -> None:
        """Answer a refused frame with an error frame; the connection stays open."""
        self.stats.frames_refused += 1
        refused = self.stats.refused if self.stats.refused is not None else {}
        refused[code.value] = refused.get(code.value, 0) + 1
        self.stats.refused = refused
        self.metrics.client_frames_rejected.labels(code.value).inc()
        self.client.send(error_frame(code, detail))

    async def _subscribe(self, request: Request) -> None:
        client = self.client
        if FIREHOSE in request.channels and not self.allow_firehose:
            raise ProtocolError(
                ErrorCode.FIREHOSE_FORBIDDEN, "this gateway does not serve `*` (ALLOW_FIREHOSE)"
            )
        new = tuple(key for key in request.channels if key not in client.channels)
        total = len(client.channels) + len(new)
        if total > self.max_subscriptions:
            raise ProtocolError(
                ErrorCode.TOO_MANY_CHANNELS,
                f"{total} channels with this request; the limit is {self.max_subscriptions}",
            )
        if new:
            # Reserve first, so the bridge subscribes; watch only once NATS has the
            # subscription, so the acknowledgement precedes every event of these channels.
            self.hub.reserve(new)
            try:
                await self.bridge.sync(new)
            except BridgeError as exc:
                self.hub.release(new)
                self.bridge.request_sync(new)
                log.warning("subscribe_failed", conn_id=client.conn_id, error=repr(exc))
                raise ProtocolError(
                    ErrorCode.UNAVAILABLE, "could not subscribe just now; try again"
                ) from exc
            self.hub.release(new)
            if client.closing is not None:
                self.bridge.request_sync(new)
                return
            self.hub.watch(client, new)
        self.stats.max_channels = max(self.stats.max_channels, len(client.channels))
        client.send(ack_frame("subscribe", request.channels, client.subscriptions()))

    def _unsubscribe(self, request: Request) -> None:
        client = self.client
        gone = tuple(key for key in request.channels if key in client.channels)
        if gone:
            self.bridge.request_sync(self.hub.unwatch(client, gone))
        client.send(ack_frame("unsubscribe", request.channels, client.subscriptions()))
