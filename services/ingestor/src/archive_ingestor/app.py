"""The composition root: settings in, NATS + publisher + IRC pool + assignment + ops wired up.

Start order: NATS (retried until it answers), streams, publisher, IRC pool, assignment. Stop
order is the reverse, so nothing read from Twitch is left unpublished: hand channels over, PART
and close the IRC connections, wait for the last acks, drain NATS.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

import aiohttp
import structlog
from nats.aio.client import Client as NatsClient
from prometheus_client import CollectorRegistry

from archive_ingestor.assignment import Assignment
from archive_ingestor.connection import JoinLimiters, Pacer, Shared, backoff_delay
from archive_ingestor.gaps import GapTracker
from archive_ingestor.ingest import Ingest
from archive_ingestor.metrics import IngestorMetrics
from archive_ingestor.pool import Pool
from archive_ingestor.publisher import Publisher
from archive_ingestor.settings import IngestorSettings
from twitch_archive.bus import StreamSettings, connect_nats, ensure_streams
from twitch_archive.lifecycle import Shutdown
from twitch_archive.ops import serve_ops
from twitch_archive.subjects import Names

log = structlog.get_logger("archive_ingestor.app")


class IngestorApp:
    """One ingestor replica; `start()` then `stop()`, or `run(shutdown)` for the process."""

    def __init__(
        self,
        settings: IngestorSettings,
        *,
        registry: CollectorRegistry | None = None,
        names: Names | None = None,
        stream_settings: StreamSettings | None = None,
    ) -> None:
        self.settings = settings
        self.stream_settings = stream_settings or StreamSettings(
            max_bytes=settings.stream_max_bytes, replicas=settings.nats_replicas
        )
        self.registry = registry if registry is not None else CollectorRegistry()
        self.names = names if names is not None else Names(ns=settings.nats_namespace)
        self.metrics = IngestorMetrics(self.registry)
        self.gaps = GapTracker(settings.ingestor_id)
        self.nc: NatsClient | None = None
        self.publisher: Publisher | None = None
        self.pool: Pool | None = None
        self.assignment: Assignment | None = None
        self.ingest: Ingest | None = None
        self._http: aiohttp.ClientSession | None = None
        self._shared: Shared | None = None
        self._stopping = False
        self.ops_port: int | None = None
        """The port /metrics, /healthz and /readyz are served on (known once `run` serves)."""

    # ------------------------------------------------------------------ start and stop

    async def start(self) -> None:
        """Connect everything and begin joining this replica's channels."""
        settings = self.settings
        self.nc = nc = await self._connect_nats()
        js = nc.jetstream()
        await ensure_streams(js, self.names, self.stream_settings)
        publisher = self.publisher = Publisher(
            nc,
            self.metrics,
            max_in_flight=settings.max_in_flight,
            buffer_max=settings.buffer_max_events,
            publish_timeout_s=settings.publish_timeout_s,
        )
        await publisher.start()
        self.ingest = Ingest(self.names, publisher, self.metrics)
        # aiohttp caps a session at 100 connections by default; 10,000 channels need 112.
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._shared = Shared(
            settings=settings,
            http=self._http,
            ingest=self.ingest,
            publisher=publisher,
            metrics=self.metrics,
            gaps=self.gaps,
            pacer=Pacer(settings.connection_pacing_s),
            limiters=JoinLimiters(settings.joins_per_window, settings.join_window_s),
        )
        self.pool = Pool(self._shared)
        self.assignment = Assignment(
            nc=nc,
            js=js,
            names=self.names,
            settings=settings,
            pool=self.pool,
            gaps=self.gaps,
            metrics=self.metrics,
        )
        await self.assignment.start()
        log.info(
            "ingestor_started",
            ingestor_id=settings.ingestor_id,
            irc_url=settings.twitch_irc_url,
            replication=settings.replication,
            channels_wanted=len(self.assignment.desired),
            channels_assigned=len(self.assignment.mine),
        )

    async def _connect_nats(self) -> NatsClient:
        settings = self.settings
        rng = random.Random()  # noqa: S311 - reconnect jitter, not security

        async def on_disconnected() -> None:
            if self._stopping:
                return
            log.warning("nats_disconnected")
            if self.publisher is not None:
                self.publisher.on_disconnected()

        async def on_reconnected() -> None:
            log.info("nats_reconnected")
            if self.publisher is not None:
                self.publisher.on_reconnected()
            if self.assignment is not None:
                self.assignment.resync()

        attempt = 0
        while True:
            try:
                return await connect_nats(
                    settings.nats_url,
                    name=f"archive-ingestor {settings.ingestor_id}",
                    disconnected_cb=on_disconnected,
                    reconnected_cb=on_reconnected,
                    pending_size=64 * 1024 * 1024,
                )
            except (OSError, TimeoutError) as exc:
                delay = backoff_delay(attempt, settings.backoff_min_s, settings.backoff_max_s, rng)
                attempt += 1
                log.warning(
                    "nats_connect_failed", url=settings.nats_url, error=repr(exc), retry_in_s=delay
                )
                await asyncio.sleep(delay)
            except Exception as exc:  # noqa: BLE001 - nats-py raises its own tree for "no servers"
                delay = backoff_delay(attempt, settings.backoff_min_s, settings.backoff_max_s, rng)
                attempt += 1
                log.warning(
                    "nats_connect_failed", url=settings.nats_url, error=repr(exc), retry_in_s=delay
                )
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        """Hand over, PART and close, publish what is left, drain NATS (bounded in time)."""
        if self._stopping:
            return
        self._stopping = True
        settings = self.settings
        deadline = time.monotonic() + settings.shutdown_timeout_s

        def left() -> float:
            return max(0.1, deadline - time.monotonic())

        if self.assignment is not None:
            await self.assignment.leave(min(left() / 2, settings.handover_max_s))
            await self.assignment.close()
        if self.pool is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left()):
                    await self.pool.stop()
        if self._shared is not None:
            await asyncio.gather(*self._shared.background, return_exceptions=True)
        if self.publisher is not None:
            await self.publisher.drain(left())
            await self.publisher.close()
        if self._http is not None:
            await self._http.close()
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        log.info("ingestor_stopped", ingestor_id=settings.ingestor_id)

    # ------------------------------------------------------------------ readiness

    async def ready(self) -> bool:
        """NATS connected, and an IRC connection up unless there is nothing to join."""
        if self.nc is None or not self.nc.is_connected or self.pool is None:
            return False
        return not self.pool.channels or self.pool.open_connections() > 0

    async def nats_connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    # ------------------------------------------------------------------ the process

    async def run(self, shutdown: Shutdown) -> None:
        """Serve ops, start, wait for SIGTERM/SIGINT, stop."""
        settings = self.settings
        checks = {"nats": self.nats_connected, "irc": self.ready}
        async with serve_ops(
            self.registry, checks, settings.metrics_host, settings.metrics_port
        ) as port:
            self.ops_port = port
            start = asyncio.create_task(self.start(), name="ingestor-start")
            stop_wait = asyncio.create_task(shutdown.wait(), name="ingestor-shutdown")
            await asyncio.wait({start, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if start.done():
                start.result()
                await stop_wait
            else:
                start.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await start
            await self.stop()
