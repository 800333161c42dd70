"""Publish events to JetStream with a bounded number of acks in flight and a bounded buffer.

Each publish carries `Nats-Msg-Id` = event id and a reply inbox of our own, so acks are matched
without a future per message. When NATS is slow or down, events wait in a buffer of at most
BUFFER_MAX_EVENTS; when it is full, `publish` blocks, which stops the IRC reads behind it
(backpressure). A publish without an ack after PUBLISH_TIMEOUT_S, or in flight when the connection
dropped, is sent again with the same id: JetStream's duplicate window drops the second copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import ConnectionClosedError, OutboundBufferLimitError

from archive_ingestor.metrics import IngestorMetrics
from twitch_archive.subjects import HEADER_MSG_ID

log = structlog.get_logger("archive_ingestor.publisher")

MAX_ERROR_ACKS = 10
"""A publish JetStream answers with an error this many times is given up on (and counted)."""
NO_RESPONDERS = "503"
LATENCY_SAMPLE_MASK = 7
"""Publish latency is observed for one ack in eight: the histogram's cost off the hot path."""


class _ApiError(msgspec.Struct, frozen=True):
    code: int = 0
    err_code: int = 0
    description: str = ""


class _Ack(msgspec.Struct, frozen=True):
    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    error: _ApiError | None = None


_ack_decoder = msgspec.json.Decoder(_Ack)


class _Pending:
    """One event on its way to JetStream."""

    __slots__ = ("attempts", "errors", "headers", "payload", "sent_at", "subject")

    def __init__(self, subject: str, payload: bytes, msg_id: str) -> None:
        self.subject = subject
        self.payload = payload
        self.headers = {HEADER_MSG_ID: msg_id}
        self.sent_at = 0.0
        self.attempts = 0
        self.errors = 0


class Publisher:
    """The one way events leave the ingestor; `publish` waits only when the buffer is full."""

    def __init__(
        self,
        nc: NatsClient,
        metrics: IngestorMetrics,
        *,
        max_in_flight: int,
        buffer_max: int,
        publish_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._nc = nc
        self._metrics = metrics
        self.max_in_flight = max_in_flight
        self.buffer_max = buffer_max
        self._timeout = publish_timeout_s
        self._clock = clock
        self._buffer: deque[_Pending] = deque()
        self._in_flight: dict[str, _Pending] = {}
        self._errored: list[_Pending] = []
        self._tokens = itertools.count(1)
        self._inbox = ""
        self._prefix_len = 0
        self._sub: Subscription | None = None
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.blocked_since: float | None = None
        """Monotonic time the buffer filled up (readers are waiting), None while it has room."""
        self.unblocked_at = 0.0
        """Monotonic time readers were last let go after a full buffer."""
        self.peak_buffered = 0
        """Largest buffer depth seen (tests assert it stays within the bound)."""
        self.acked = 0
        metrics.queue_capacity.labels("publish_buffer").set(buffer_max)
        metrics.queue_capacity.labels("in_flight").set(max_in_flight)
        metrics.queue_depth.labels("in_flight").set_function(lambda: len(self._in_flight))
        metrics.queue_depth.labels("publish_buffer").set_function(lambda: len(self._buffer))
        self._dropped = metrics.queue_dropped.labels("publish_buffer", "rejected")
        self._stored = metrics.published.labels("stored")
        self._duplicate = metrics.published.labels("duplicate")
        self._latency = metrics.publish_latency

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Subscribe to our ack inbox and start the sender and the timeout sweeper."""
        self._inbox = self._nc.new_inbox() + "."
        self._prefix_len = len(self._inbox)
        self._sub = await self._nc.subscribe(
            self._inbox + "*", cb=self._on_ack, pending_msgs_limit=-1, pending_bytes_limit=-1
        )
        self._tasks = [
            asyncio.create_task(self._forever(self._sender), name="publisher-sender"),
            asyncio.create_task(self._forever(self._sweeper), name="publisher-sweeper"),
        ]

    async def _forever(self, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a background loop; an unexpected error is logged and the loop starts over."""
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("publisher_task_failed", task=loop.__name__)
                await asyncio.sleep(0.5)
                self._wake.set()

    async def drain(self, timeout_s: float) -> int:
        """Wait for every buffered and in-flight event to be acked; returns how many were not."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self._buffer or self._in_flight or self._errored:
                    self._idle.clear()
                    await self._idle.wait()
        left = len(self._buffer) + len(self._in_flight) + len(self._errored)
        if left:
            self._metrics.queue_dropped.labels("publish_buffer", "shutdown").inc(left)
            log.error("publish_drain_incomplete", events_not_acked=left, timeout_s=timeout_s)
        return left

    async def close(self) -> None:
        """Stop the background tasks (call `drain` first to keep what is buffered)."""
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._sub is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    # ------------------------------------------------------------------ state

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def blocked(self) -> bool:
        """Readers are held back because the buffer is full."""
        return self.blocked_since is not None

    def on_disconnected(self) -> None:
        """NATS went away: stop sending (what is in flight is resent on reconnect)."""
        log.warning("publisher_paused", in_flight=len(self._in_flight), buffered=len(self._buffer))

    def on_reconnected(self) -> None:
        """NATS is back: resend what was in flight (it may never have arrived), then the rest."""
        resend = list(self._in_flight.values())
        self._in_flight.clear()
        if resend:
            self._metrics.publish_retries.labels("disconnected").inc(len(resend))
            self._buffer.extendleft(reversed(resend))
            self._note_depth()
        log.info("publisher_resumed", resent=len(resend), buffered=len(self._buffer))
        self._wake.set()

    # ------------------------------------------------------------------ publishing

    async def publish(self, subject: str, payload: bytes, msg_id: str) -> None:
        """Queue one event for JetStream; waits only while the buffer is full (backpressure)."""
        if not self._buffer and len(self._in_flight) < self.max_in_flight and self._nc.is_connected:
            await self._send(_Pending(subject, payload, msg_id))
            return
        if len(self._buffer) >= self.buffer_max:
            await self._wait_for_room()
        self._buffer.append(_Pending(subject, payload, msg_id))
        self._note_depth()
        self._wake.set()

    def _note_depth(self) -> None:
        depth = len(self._buffer)
        if depth > self.peak_buffered:
            self.peak_buffered = depth
        if depth >= self.buffer_max and self._room.is_set():
            self._room.clear()
            self.blocked_since = self._clock()

    async def _wait_for_room(self) -> None:
        started = self._clock()
        if self._room.is_set():  # a retry refilled the buffer: block until it drains
            self._room.clear()
            self.blocked_since = started
        while len(self._buffer) >= self.buffer_max:
            await self._room.wait()
            if len(self._buffer) >= self.buffer_max:
                self._room.clear()
        self._metrics.backpressure_seconds.inc(self._clock() - started)

    def _release_room(self) -> None:
        if not self._room.is_set() and len(self._buffer) < self.buffer_max:
            self._room.set()
            self.blocked_since = None
            self.unblocked_at = self._clock()

    async def _send(self, entry: _Pending) -> None:
        token = str(next(self._tokens))
        entry.sent_at = self._clock()
        entry.attempts += 1
        self._in_flight[token] = entry
        try:
            await self._nc.publish(
                entry.subject, entry.payload, reply=self._inbox + token, headers=entry.headers
            )
        except (OutboundBufferLimitError, ConnectionClosedError):
            # Lost the race with a disconnect: keep it, it goes out again on reconnect.
            self._in_flight.pop(token, None)
            self._buffer.appendleft(entry)
            self._note_depth()

    async def _sender(self) -> None:
        """Move buffered events into flight whenever there is room and NATS is connected."""
        buffer = self._buffer
        while True:
            await self._wake.wait()
            self._wake.clear()
            while buffer and len(self._in_flight) < self.max_in_flight and self._nc.is_connected:
                await self._send(buffer.popleft())
                if len(buffer) < self.buffer_max:
                    self._release_room()
            self._release_room()
            self._check_idle()

    def _check_idle(self) -> None:
        if not self._buffer and not self._in_flight and not self._errored:
            self._idle.set()

    async def _on_ack(self, msg: Msg) -> None:
        entry = self._in_flight.pop(msg.subject[self._prefix_len :], None)
        if entry is None:
            return  # a late ack of a publish that was already sent again
        headers = msg.headers
        if headers and headers.get("Status") == NO_RESPONDERS:
            self._ack_error(entry, "no_responders", "no stream answers this subject")
        else:
            try:
                ack = _ack_decoder.decode(msg.data)
            except msgspec.DecodeError:
                self._ack_error(entry, "bad_ack", repr(msg.data[:200]))
            else:
                if ack.error is not None:
                    self._ack_error(entry, "error", f"{ack.error.err_code} {ack.error.description}")
                else:
                    self.acked += 1
                    (self._duplicate if ack.duplicate else self._stored).inc()
                    if not self.acked & LATENCY_SAMPLE_MASK:
                        self._latency.observe(self._clock() - entry.sent_at)
        if self._buffer:
            self._wake.set()
        elif not self._in_flight:
            self._check_idle()

    def _ack_error(self, entry: _Pending, reason: str, detail: str) -> None:
        entry.errors += 1
        if entry.errors >= MAX_ERROR_ACKS:
            self._dropped.inc()
            log.error(
                "publish_rejected",
                subject=entry.subject,
                event_id=entry.headers[HEADER_MSG_ID],
                reason=reason,
                detail=detail,
                attempts=entry.attempts,
            )
            return
        if entry.errors == 1:
            log.warning("publish_error", subject=entry.subject, reason=reason, detail=detail)
        self._errored.append(entry)  # sent again by the sweeper, not in a tight loop

    async def _sweeper(self) -> None:
        """Resend publishes whose ack is overdue, and those JetStream answered with an error."""
        interval = min(0.5, self._timeout / 4)
        while True:
            await asyncio.sleep(interval)
            retry: list[_Pending] = []
            if self._errored:
                retry.extend(self._errored)
                self._metrics.publish_retries.labels("error").inc(len(self._errored))
                self._errored.clear()
            if self._nc.is_connected and self._in_flight:
                cutoff = self._clock() - self._timeout
                expired = []
                for token, entry in self._in_flight.items():
                    if entry.sent_at > cutoff:
                        break  # in send order: the rest are younger
                    expired.append(token)
                retry.extend(self._in_flight.pop(token) for token in expired)
                if expired:
                    self._metrics.publish_retries.labels("timeout").inc(len(expired))
                    log.warning("publish_ack_timeout", resent=len(expired))
            if retry:
                self._buffer.extendleft(reversed(retry))
                self._note_depth()
                self._wake.set()
            self._check_idle()
