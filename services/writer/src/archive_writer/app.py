"""The composition root: clients, components, one TaskGroup, and the ordered drain on SIGTERM.

    pull consumer -> intake (decode, rows, batcher) -> flush queue -> flusher (store, ack)
                          \\-> dead letters <-------------------------/ (refused rows)

Drain order: stop pulling (late deliveries are nak'd), flush the open batch, store and ack every
queued batch, publish the pending dead letters, let the pull requests expire, drain NATS.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final

import asyncpg
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

from archive_writer.batcher import Batch, Batcher, BatchQueue, Intake
from archive_writer.consumer import ConsumerConfig, PullConsumer
from archive_writer.dead_letter import DeadLetter
from archive_writer.metrics import WriterMetrics
from archive_writer.rows import RowMaker
from archive_writer.settings import WriterSettings
from archive_writer.store import CoverageGaps, Flusher, Store, add_months, month_start, now_ms
from twitch_archive.bus import connect_nats
from twitch_archive.db import create_pool, ping
from twitch_archive.lifecycle import Shutdown
from twitch_archive.ops import serve_ops
from twitch_archive.subjects import Names

log = structlog.get_logger("archive_writer.app")

GC_THRESHOLD: Final = 50_000
"""Allocations between young-generation collections (CPython's default is 700)."""
PARTITION_CHECK_S: Final = 3600.0
"""How often next month's partition is ensured (archive_ensure_message_partition's advice)."""


class WriterApp:
    """One writer replica; `run()` until `shutdown` is requested, then drain."""

    def __init__(
        self,
        settings: WriterSettings,
        registry: CollectorRegistry | None = None,
        *,
        tune_gc: bool = False,
    ) -> None:
        """`tune_gc`: freeze start-up objects and raise GC thresholds (process-wide: the
        `archive-writer` process sets it, tests running writers in-process do not)."""
        self.settings = settings
        self._tune_gc = tune_gc
        self.names = Names(ns=settings.nats_namespace)
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = WriterMetrics(self.registry)
        self.started = asyncio.Event()
        """Set once the writer pulls and serves /readyz (tests wait on it)."""
        self.ops_port = 0
        """The port /metrics /healthz /readyz listen on (known once `started`)."""
        self.exit_code: int | None = None
        """What `run()` returned, once it has."""
        self._consumer: PullConsumer | None = None

    async def run(self, shutdown: Shutdown) -> int:
        """Run until `shutdown`; 0 after a clean drain, 1 if the drain ran out of time."""
        s = self.settings
        nc = await connect_nats(
            s.nats_url,
            name="archive-writer",
            reconnected_cb=self._on_reconnected,
            pending_size=8 * 1024 * 1024,
        )
        pool = await create_pool(
            s.database_url, min_size=0, max_size=3, application_name="archive-writer"
        )
        first = Store(s.database_url, pool, timeout_s=s.store_timeout_s)
        stores = [first] + [
            Store(
                s.database_url,
                pool,
                timeout_s=s.store_timeout_s,
                channels=first.channels,
                months=first.months,
            )
            for _ in range(s.store_connections - 1)
        ]
        try:
            self.exit_code = await self._run(shutdown, nc, pool, stores)
            return self.exit_code
        finally:
            for store in stores:
                await store.close()
            await pool.close()
            if not nc.is_closed:
                await nc.close()

    async def _on_reconnected(self) -> None:
        log.info("nats_reconnected")
        if self._consumer is not None:
            await self._consumer.reset()

    async def _run(
        self,
        shutdown: Shutdown,
        nc: NatsClient,
        pool: asyncpg.Pool[asyncpg.Record],
        stores: list[Store],
    ) -> int:
        s, metrics = self.settings, self.metrics
        store = stores[0]
        window = min(
            s.max_ack_pending,
            (s.flush_queue_batches + s.store_connections + 1) * s.batch_max_events,
        )
        consumer = PullConsumer(
            nc,
            self.names,
            ConsumerConfig(
                max_ack_pending=s.max_ack_pending,
                ack_wait_s=s.ack_wait_s,
                fetch_batch=min(s.fetch_batch, window),
                window=max(window, 1),
            ),
            metrics,
        )
        self._consumer = consumer
        dead_letter = DeadLetter(
            nc.jetstream(),
            self.names,
            consumer,
            metrics,
            retry_min_s=s.retry_min_s,
            retry_max_s=max(s.retry_min_s, s.retry_max_s),
        )
        queue: BatchQueue[Msg] = BatchQueue(s.flush_queue_batches, metrics)
        batcher: Batcher[Msg] = Batcher(s.batch_max_events, s.batch_max_age_ms / 1000)
        rows = RowMaker(
            store.channels,
            dead_letter,
            retry_min_s=s.retry_min_s,
            retry_max_s=max(s.retry_min_s, s.retry_max_s),
            record_gap=CoverageGaps(pool).record,
            ack=consumer.ack,
            on_retry=lambda reason: metrics.store_retries.labels(reason).inc(),
        )
        intake: Intake[Msg] = Intake(consumer, rows.prepare, batcher, queue)
        flusher = Flusher(
            stores,
            queue,
            consumer,
            dead_letter,
            metrics,
            retry_min_s=s.retry_min_s,
            retry_max_s=max(s.retry_min_s, s.retry_max_s),
        )

        def outstanding() -> list[Batch[Msg]]:
            return [*flusher.current, *queue.pending(), intake.open_batch]

        checks = {
            "postgres": lambda: ping(pool, timeout=1.0),
            "nats": _connected(nc),
        }
        await consumer.start()
        async with serve_ops(self.registry, checks, s.metrics_host, s.metrics_port) as port:
            self.ops_port = port
            if self._tune_gc:
                # Everything allocated so far lives as long as the process: keep the collector
                # off it. Batches keep ~10^5 short-lived, acyclic objects alive at once; the
                # default thresholds would rescan them many times per batch.
                gc.collect()
                gc.freeze()
                gc.set_threshold(GC_THRESHOLD, 20, 20)
            log.info(
                "writer_started",
                stream=self.names.chat_stream,
                durable=self.names.writer_durable,
                metrics_port=port,
                batch_max_events=s.batch_max_events,
                batch_max_age_ms=s.batch_max_age_ms,
                window=window,
            )
            self.started.set()
            async with asyncio.TaskGroup() as tg:
                main = [
                    tg.create_task(_guarded("intake", intake.run, metrics)),
                    tg.create_task(_guarded("flusher", flusher.run, metrics)),
                    tg.create_task(_guarded("dead_letter", dead_letter.run, metrics)),
                ]
                background = [
                    tg.create_task(
                        _every(s.lag_poll_s, "consumer_lag", consumer.poll_lag, metrics)
                    ),
                    tg.create_task(
                        _every(
                            s.ack_wait_s / 3,
                            "keep_alive",
                            lambda: _keep_alive(consumer, outstanding, s.ack_wait_s / 3),
                            metrics,
                        )
                    ),
                    tg.create_task(
                        _every(
                            PARTITION_CHECK_S,
                            "partitions",
                            lambda: store.ensure_partitions(_this_and_next_month()),
                            metrics,
                            first_delay=0.0,
                        )
                    ),
                ]
                await shutdown.wait()
                log.info("writer_draining", held=consumer.held, queued=len(queue))
                consumer.stop()
                clean = await self._drain(main, queue, dead_letter, consumer)
                for task in background:
                    task.cancel()
        await nc.drain()
        log.info("writer_stopped", clean=clean)
        return 0 if clean else 1

    async def _drain(
        self,
        main: list[asyncio.Task[None]],
        queue: BatchQueue[Msg],
        dead_letter: DeadLetter,
        consumer: PullConsumer,
    ) -> bool:
        intake, flusher, dead_letters = main
        try:
            async with asyncio.timeout(self.settings.shutdown_timeout_s):
                await intake
                await flusher
                await dead_letter.close()
                await dead_letters
                await consumer.nak(await consumer.leftovers())
        except TimeoutError:
            log.warning(
                "writer_drain_timed_out",
                queued=len(queue),
                held=consumer.held,
                timeout_s=self.settings.shutdown_timeout_s,
            )
            for task in main:
                task.cancel()
            return False
        return True


def _connected(nc: NatsClient) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(nc.is_connected)

    return check


def _this_and_next_month() -> list[datetime]:
    this = month_start(now_ms())
    return [this, add_months(this, 1)]


async def _keep_alive(
    consumer: PullConsumer, outstanding: Callable[[], list[Batch[Msg]]], period: float
) -> None:
    now = time.monotonic()
    for batch in outstanding():
        if len(batch) and now - batch.kept_alive_at >= period:
            batch.kept_alive_at = now
            await consumer.keep_alive(batch.all_msgs())


async def _guarded(name: str, run: Callable[[], Awaitable[None]], metrics: WriterMetrics) -> None:
    """Run a main loop; an unexpected error is logged, counted and the loop restarted."""
    attempt = 0
    while True:
        try:
            await run()
        except Exception:  # task boundary: log with the traceback, count, restart after a pause
            metrics.task_errors.labels(name).inc()
            log.exception("task_failed", task=name)
            attempt += 1
            await asyncio.sleep(min(10.0, 0.1 * 2**attempt))
        else:
            return


async def _every(
    period: float,
    name: str,
    job: Callable[[], Awaitable[None]],
    metrics: WriterMetrics,
    *,
    first_delay: float | None = None,
) -> None:
    """Run `job` every `period` seconds until cancelled; failures are logged and counted."""
    await asyncio.sleep(period if first_delay is None else first_delay)
    while True:
        try:
            await job()
        except Exception:  # task boundary: a failed poll must not stop the writer
            metrics.task_errors.labels(name).inc()
            log.warning("periodic_task_failed", task=name, exc_info=True)
        await asyncio.sleep(period)


async def run(settings: WriterSettings) -> int:
    """Run a writer until SIGTERM/SIGINT; the process exit status."""
    shutdown = Shutdown()
    shutdown.install()
    try:
        return await WriterApp(settings, tune_gc=True).run(shutdown)
    finally:
        shutdown.uninstall()
