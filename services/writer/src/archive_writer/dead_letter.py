"""Events the writer cannot store go to the dead-letter stream, with the reason, and are acked.

Two ways in: an event that does not decode or breaks the contract (found by the intake), and a
row PostgreSQL refuses (found by `store_isolating`, which splits a failing batch until the
culprit is alone). Either way the stream keeps flowing: the dead-letter queue is bounded, and an
event it has no room for is nak'd for a later redelivery (counted), never waited on.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import enum
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, Protocol, TypeVar

import structlog
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from archive_writer.errors import DeadLetterError, RowRejectedError
from archive_writer.metrics import WriterMetrics
from twitch_archive.subjects import HEADER_ERROR, HEADER_MSG_ID, HEADER_ORIGINAL_SUBJECT, Names

log = structlog.get_logger("archive_writer.dead_letter")

HEADER_VALUE_MAX: Final = 1_000
PUBLISH_TIMEOUT_S: Final = 5.0


class Reason(enum.StrEnum):
    """Why an event was dead-lettered (the `reason` label, and the start of Archive-Error)."""

    UNDECODABLE = "undecodable"
    """Not JSON, or not a JSON object the decoder can read."""
    CONTRACT_VIOLATION = "contract_violation"
    """Valid JSON that breaks the event contract (a missing field, a wrong type, an unknown tag)."""
    INVALID_CHANNEL = "invalid_channel"
    """A channel login that is not a lowercase Twitch login."""
    STORE_REJECTED = "store_rejected"
    """PostgreSQL refused the row (a value out of range, a NUL byte, ...)."""


class Settler(Protocol):
    """Acks and naks messages (the pull consumer)."""

    async def ack(self, msgs: Sequence[Msg]) -> None: ...

    async def nak(self, msgs: Sequence[Msg]) -> None: ...


def header_value(text: str) -> str:
    """A header-safe version of an error text: one line, bounded length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= HEADER_VALUE_MAX else flat[: HEADER_VALUE_MAX - 3] + "..."


def backoff_delay(attempt: int, low: float, high: float) -> float:
    """Exponential backoff with jitter: about low * 2**attempt, capped at high, in [d/2, d]."""
    delay = min(high, low * (2 ** min(attempt, 30)))
    return float(delay / 2 + random.uniform(0, delay / 2))  # noqa: S311 - jitter, not crypto


@dataclasses.dataclass(slots=True, frozen=True)
class DeadLetterItem:
    msg: Msg
    reason: Reason
    detail: str


class DeadLetter:
    """Publishes dead letters to `{ns}deadletter.chat`, then acks the originals."""

    def __init__(
        self,
        js: JetStreamContext,
        names: Names,
        settler: Settler,
        metrics: WriterMetrics,
        *,
        capacity: int = 1_000,
        retry_min_s: float = 0.1,
        retry_max_s: float = 10.0,
    ) -> None:
        self._js = js
        self._names = names
        self._settler = settler
        self._metrics = metrics
        self.capacity = capacity
        self._items: collections.deque[DeadLetterItem] = collections.deque()
        self._changed = asyncio.Condition()
        self._closed = False
        self._retry = (retry_min_s, retry_max_s)
        metrics.queue_capacity.labels("dead_letter").set(capacity)
        for reason in Reason:
            metrics.dead_lettered.labels(reason.value)

    def __len__(self) -> int:
        return len(self._items)

    def pending_msgs(self) -> list[Msg]:
        return [item.msg for item in self._items]

    async def offer(self, msg: Msg, reason: Reason, detail: str) -> None:
        """Queue a dead letter without waiting; when full, nak it for a later redelivery."""
        if len(self._items) >= self.capacity:
            self._metrics.queue_dropped.labels("dead_letter", "full").inc()
            await self._settler.nak([msg])
            return
        await self.put(msg, reason, detail)

    async def put(self, msg: Msg, reason: Reason, detail: str) -> None:
        """Queue a dead letter, waiting for room (the store's culprits: never dropped)."""
        log.warning(
            "event_dead_lettered", reason=reason.value, detail=detail[:300], subject=msg.subject
        )
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._items) < self.capacity)
            self._items.append(DeadLetterItem(msg, reason, detail))
            self._metrics.queue_depth.labels("dead_letter").set(len(self._items))
            self._changed.notify_all()

    async def close(self) -> None:
        """No more dead letters: `run` returns once the queue is empty."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()

    async def run(self) -> None:
        """Publish queued dead letters in order, retrying each until the stream takes it."""
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._items) or self._closed)
                if not self._items:
                    return
                item = self._items[0]
            attempt = 0
            while True:
                try:
                    await self.publish(item)
                    break
                except DeadLetterError as exc:
                    delay = backoff_delay(attempt, *self._retry)
                    log.warning("dead_letter_retry", error=str(exc), retry_in_s=round(delay, 2))
                    attempt += 1
                    await asyncio.sleep(delay)
            async with self._changed:
                self._items.popleft()
                self._metrics.queue_depth.labels("dead_letter").set(len(self._items))
                self._changed.notify_all()
            self._metrics.dead_lettered.labels(item.reason.value).inc()
            await self._settler.ack([item.msg])

    async def publish(self, item: DeadLetterItem) -> None:
        """Put one dead letter on the dead-letter stream; raises DeadLetterError if not taken."""
        msg = item.msg
        headers = {
            HEADER_ERROR: header_value(f"{item.reason.value}: {item.detail}"),
            HEADER_ORIGINAL_SUBJECT: msg.subject,
        }
        dedupe_id = _dead_letter_id(msg)
        if dedupe_id is not None:
            headers[HEADER_MSG_ID] = dedupe_id
        try:
            await self._js.publish(
                self._names.deadletter_subject, msg.data, headers=headers, timeout=PUBLISH_TIMEOUT_S
            )
        except (NatsError, TimeoutError) as exc:
            raise DeadLetterError(f"{type(exc).__name__}: {exc}") from exc


def _dead_letter_id(msg: Msg) -> str | None:
    """`dlq-<stream>-<sequence>`, so a redelivered poison is stored in the DLQ once; None for a
    message that is not a JetStream delivery."""
    try:
        meta = msg.metadata
    except (ValueError, IndexError, AttributeError, NatsError):
        return None
    return f"dlq-{meta.stream}-{meta.sequence.stream}"


B = TypeVar("B", bound="Splittable")
R = TypeVar("R")


class Splittable(Protocol):
    def __len__(self) -> int: ...

    def split(self) -> tuple[Any, Any]: ...


async def store_isolating(
    batch: B,
    write: Callable[[B], Awaitable[R]],
    reject: Callable[[B, RowRejectedError], Awaitable[None]],
    on_split: Callable[[], None] | None = None,
) -> list[R]:
    """Store `batch` with `write`; when PostgreSQL refuses a row, split and store each half.

    Halving until the refused event is alone costs about 2 log2(n) transactions for one bad row
    among n, and every good row is still stored. The lone culprit goes to `reject`. Errors other
    than RowRejectedError propagate (`write` retries transient ones itself).
    """
    results: list[R] = []
    stack = [batch]
    while stack:
        part = stack.pop()
        try:
            results.append(await write(part))
        except RowRejectedError as exc:
            if len(part) <= 1:
                await reject(part, exc)
                continue
            first, second = part.split()
            if on_split is not None:
                on_split()
            stack.append(second)
            stack.append(first)
    return results
