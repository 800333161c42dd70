"""The desired channel set outside the database: the ingestors' KV bucket and their nudges.

The database (`channels.is_active`) is the source of truth. Every change is mirrored into the KV
bucket `Names.channels_bucket` (key = login, value `CHANNEL_KV_VALUE`) and followed by a
`ChannelControl` on `Names.control_channels_changed` (`twitch_archive.control`). NATS being down
never blocks start-up: the connection is retried in the background, and on every (re)connect the
bucket is reconciled with the database, so a change made while NATS was away still arrives.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from archive_api.errors import UnavailableError
from archive_api.metrics import ApiMetrics
from twitch_archive import control
from twitch_archive.bus import connect_nats, ensure_bucket
from twitch_archive.subjects import Names, validate_channel

log = structlog.get_logger("archive_api.desired")

NATS_ERRORS = (NatsError, OSError, TimeoutError)


class DesiredSet:
    """Writes the KV bucket and publishes control messages; reconciles on (re)connect."""

    def __init__(
        self, nats_url: str, names: Names, metrics: ApiMetrics, *, replicas: int = 1
    ) -> None:
        self._url = nats_url
        self.names = names
        self.replicas = replicas
        self._metrics = metrics
        self.nc: NatsClient | None = None
        self.kv: KeyValue | None = None
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._task: asyncio.Task[None] | None = None
        self._reconcile_lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        metrics.nats_up.set(0)

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected and self.kv is not None

    def start(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        """Connect in the background (retrying until NATS answers)."""
        self._pool = pool
        self._task = asyncio.create_task(self._connect_loop(), name="nats-connect")

    async def close(self) -> None:
        for task in (self._task, self._background):
            if task is None:
                continue
            # Let a connection attempt in flight finish (milliseconds normally): cancelling
            # nats.connect half way leaves its socket to the garbage collector.
            await asyncio.wait({task}, timeout=5)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, *NATS_ERRORS):
                await task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(*NATS_ERRORS):
                await asyncio.wait_for(self.nc.drain(), 5)
        self._metrics.nats_up.set(0)

    async def _connect_loop(self) -> None:
        delay = 0.5
        while True:
            try:
                self.nc = await connect_nats(
                    self._url,
                    name="archive-api",
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                self.kv = await self._ensure_bucket()
            except NATS_ERRORS as exc:
                log.warning("nats_connect_failed", error=repr(exc)[:200], retry_s=delay)
                if self.nc is not None:
                    with contextlib.suppress(*NATS_ERRORS):
                        await self.nc.close()
                    self.nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._metrics.nats_up.set(1)
            log.info("nats_connected")
            await self._reconcile_logged()
            return

    async def _on_disconnected(self) -> None:
        self._metrics.nats_up.set(0)
        log.warning("nats_disconnected")

    async def _on_reconnected(self) -> None:
        self._metrics.nats_up.set(1)
        log.info("nats_reconnected")
        self._background = asyncio.get_running_loop().create_task(self._reconcile_logged())

    async def _ensure_bucket(self) -> KeyValue:
        assert self.nc is not None
        return await ensure_bucket(
            self.nc.jetstream(), self.names.channels_bucket, replicas=self.replicas
        )

    async def _reconcile_logged(self) -> None:
        try:
            await self.reconcile()
        except (*NATS_ERRORS, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("desired_set_reconcile_failed", error=repr(exc)[:200])

    async def reconcile(self) -> dict[str, int]:
        """Make the bucket equal the database's active set, adopting keys the database lacks
        (channels an ingestor seeded from CHANNELS). Returns what it changed."""
        if self._pool is None or not self.connected:
            return {}
        assert self.kv is not None
        async with self._reconcile_lock:
            keys = set(await self._keys())
            rows = await self._pool.fetch("SELECT login, is_active FROM channels")
            known = {row["login"]: row["is_active"] for row in rows}
            adopted = [k for k in keys if k not in known]
            for login in adopted:
                await self._pool.execute(
                    "INSERT INTO channels (login) VALUES ($1) ON CONFLICT (login) DO NOTHING", login
                )
            put = [login for login, active in known.items() if active and login not in keys]
            removed = [login for login, active in known.items() if not active and login in keys]
            for login in put:
                await self.kv.put(login, control.CHANNEL_KV_VALUE)
            for login in removed:
                with contextlib.suppress(KeyNotFoundError):
                    await self.kv.delete(login)
            if put or removed:
                await self.notify(control.changed())
            changes = {"adopted": len(adopted), "put": len(put), "removed": len(removed)}
            if any(changes.values()):
                log.info("desired_set_reconciled", **changes)
            return changes

    async def _keys(self) -> list[str]:
        assert self.kv is not None
        status = await self.kv.status()
        if not status.values:
            return []  # kv.keys() on an empty bucket waits for its timeout instead of answering
        try:
            keys: list[str] = await self.kv.keys()
        except NATS_ERRORS as exc:
            if "no keys" in str(exc).lower():
                return []
            raise
        out = []
        for key in keys:
            with contextlib.suppress(ValueError):
                out.append(validate_channel(key))
        return out

    def _require(self) -> KeyValue:
        if not self.connected:
            raise UnavailableError(
                "NATS is not connected: the database was updated and the ingestors will be "
                "told when NATS is back"
            )
        assert self.kv is not None
        return self.kv

    async def activate(self, login: str) -> None:
        """Put `login` in the bucket and tell the ingestors."""
        kv = self._require()
        try:
            await kv.put(validate_channel(login), control.CHANNEL_KV_VALUE)
            await self.notify(control.changed())
        except NATS_ERRORS as exc:
            raise UnavailableError(f"NATS did not take the change: {exc!r}"[:300]) from exc

    async def deactivate(self, login: str) -> None:
        """Remove `login` from the bucket and tell the ingestors."""
        kv = self._require()
        try:
            with contextlib.suppress(KeyNotFoundError):
                await kv.delete(validate_channel(login))
            await self.notify(control.changed())
        except NATS_ERRORS as exc:
            raise UnavailableError(f"NATS did not take the change: {exc!r}"[:300]) from exc

    async def rejoin(self, login: str) -> None:
        """Tell the replicas that own `login` to part and rejoin it."""
        self._require()
        try:
            await self.notify(control.rejoin(login))
        except NATS_ERRORS as exc:
            raise UnavailableError(f"NATS did not take the request: {exc!r}"[:300]) from exc

    async def notify(self, payload: bytes) -> None:
        assert self.nc is not None
        await self.nc.publish(self.names.control_channels_changed, payload)
        await self.nc.flush(timeout=2)

    def status(self) -> str:
        return "ok" if self.connected else "down"
