"""WHEN a batch is flushed: at `batch_max_events` events, or once its oldest is that old.

`Batcher` is the pure decision (no I/O, a clock passed in); `BatchQueue` is the bounded hand-off to
the store; `Intake` is the loop that turns delivered messages into rows and feeds both.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar

import structlog

from archive_writer.metrics import WriterMetrics

log = structlog.get_logger("archive_writer.batcher")

M = TypeVar("M")
"""What travels with each row so it can be acked or dead-lettered (a NATS message)."""
M_co = TypeVar("M_co", covariant=True)
Entry = tuple[int, tuple[Any, ...], Any]
"""(table, staging row, message)"""

IDLE_WAIT_S: Final = 1.0
"""How long the intake waits for messages when no batch is open."""


@dataclasses.dataclass(slots=True)
class Batch(Generic[M]):
    """Rows per table with the messages they came from, in the same order."""

    rows: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]] = (
        dataclasses.field(default_factory=lambda: ([], [], []))
    )
    msgs: tuple[list[M], list[M], list[M]] = dataclasses.field(default_factory=lambda: ([], [], []))
    opened_at: float = 0.0
    """Monotonic time the first event was added."""
    kept_alive_at: float = 0.0
    """Monotonic time JetStream was last told these messages are in progress."""

    def __len__(self) -> int:
        return len(self.msgs[0]) + len(self.msgs[1]) + len(self.msgs[2])

    def all_msgs(self) -> list[M]:
        return [*self.msgs[0], *self.msgs[1], *self.msgs[2]]

    def split(self) -> tuple[Batch[M], Batch[M]]:
        """Two halves, each table's rows halved (for finding a row PostgreSQL refuses)."""
        halves: list[Batch[M]] = [
            Batch(opened_at=self.opened_at, kept_alive_at=self.kept_alive_at) for _ in range(2)
        ]
        total = len(self)
        first_size = total // 2
        taken = 0
        for kind in range(3):
            rows, msgs = self.rows[kind], self.msgs[kind]
            cut = min(len(msgs), max(0, first_size - taken))
            taken += cut
            halves[0].rows[kind].extend(rows[:cut])
            halves[0].msgs[kind].extend(msgs[:cut])
            halves[1].rows[kind].extend(rows[cut:])
            halves[1].msgs[kind].extend(msgs[cut:])
        return halves[0], halves[1]


class Batcher(Generic[M]):
    """Accumulates rows into the open batch and says when it is due."""

    def __init__(
        self, max_events: int, max_age_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_events < 1 or max_age_s <= 0:
            raise ValueError("a batch needs max_events >= 1 and max_age_s > 0")
        self.max_events = max_events
        self.max_age_s = max_age_s
        self._clock = clock
        self._open: Batch[M] = Batch()
        self._size = 0

    @property
    def open_batch(self) -> Batch[M]:
        return self._open

    def __len__(self) -> int:
        return self._size

    @property
    def full(self) -> bool:
        return self._size >= self.max_events

    def extend(self, entries: Sequence[Entry]) -> Sequence[Entry]:
        """Add entries until the batch is full; returns those that did not fit."""
        room = self.max_events - self._size
        if room <= 0 or not entries:
            return entries
        if self._size == 0:
            self._open.opened_at = self._clock()
            self._open.kept_alive_at = self._open.opened_at
        taking = entries[:room] if len(entries) > room else entries
        rows, msgs = self._open.rows, self._open.msgs
        for kind, row, msg in taking:
            rows[kind].append(row)
            msgs[kind].append(msg)
        self._size += len(taking)
        return entries[room:] if len(entries) > room else ()

    def time_left(self) -> float | None:
        """Seconds until the open batch is due by age; None when nothing is open."""
        if self._size == 0:
            return None
        return max(0.0, self._open.opened_at + self.max_age_s - self._clock())

    def due(self) -> bool:
        """True when the open batch must be flushed now (full, or old enough)."""
        left = self.time_left()
        return self.full or (left is not None and left <= 0.0)

    def take(self) -> Batch[M]:
        """Close the open batch and start a new one."""
        batch, self._open, self._size = self._open, Batch(), 0
        return batch


class BatchQueue(Generic[M]):
    """Complete batches waiting for the store; `put` waits while it is full (backpressure)."""

    def __init__(self, capacity: int, metrics: WriterMetrics) -> None:
        self.capacity = capacity
        self._items: collections.deque[Batch[M]] = collections.deque()
        self._changed = asyncio.Condition()
        self._closed = False
        self._metrics = metrics
        metrics.queue_capacity.labels("flush").set(capacity)

    def __len__(self) -> int:
        return len(self._items)

    def pending(self) -> list[Batch[M]]:
        return list(self._items)

    async def put(self, batch: Batch[M]) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._items) < self.capacity)
            self._items.append(batch)
            self._metrics.queue_depth.labels("flush").set(len(self._items))
            self._changed.notify_all()

    async def get(self) -> Batch[M] | None:
        """The next batch; None once the queue is closed and empty."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items) or self._closed)
            if not self._items:
                return None
            batch = self._items.popleft()
            self._metrics.queue_depth.labels("flush").set(len(self._items))
            self._changed.notify_all()
            return batch

    async def close(self) -> None:
        """No more batches: `get` returns None once the queue is empty."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()


class Source(Protocol[M_co]):
    """What the intake reads from (the pull consumer)."""

    def take(self, timeout: float) -> Awaitable[Sequence[M_co]]: ...

    @property
    def stopping(self) -> bool: ...

    def drained(self) -> Awaitable[None]: ...

    def close(self) -> None: ...


class Intake(Generic[M]):
    """Delivered messages -> rows (via `prepare`) -> batches -> the flush queue."""

    def __init__(
        self,
        source: Source[M],
        prepare: Callable[[Sequence[M]], Awaitable[list[Entry]]],
        batcher: Batcher[M],
        queue: BatchQueue[M],
    ) -> None:
        self._source = source
        self._prepare = prepare
        self._batcher = batcher
        self._queue = queue

    @property
    def open_batch(self) -> Batch[M]:
        return self._batcher.open_batch

    async def run(self) -> None:
        """Until the source stops: fill batches and hand each over when due; then the last."""
        batcher = self._batcher
        while not self._source.stopping:
            left = batcher.time_left()
            await self._add(await self._source.take(IDLE_WAIT_S if left is None else left))
            if batcher.due():
                await self._queue.put(batcher.take())
        # Stopped pulling: what the requests in flight still deliver goes into the last batch.
        await self._source.drained()
        await self._add(await self._source.take(0))
        self._source.close()
        if len(batcher):
            await self._queue.put(batcher.take())
        await self._queue.close()

    async def _add(self, msgs: Sequence[M]) -> None:
        if not msgs:
            return
        entries: Sequence[Entry] = await self._prepare(msgs)
        while entries:
            entries = self._batcher.extend(entries)
            if self._batcher.full:
                await self._queue.put(self._batcher.take())
