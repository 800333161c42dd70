"""Redis, guarded: a short-lived cache of aggregates, and a breaker that fails open.

Every Redis call goes through `RedisGuard.call`: a short timeout, and after a failure Redis is
skipped for REDIS_RETRY_S (no request waits on a dead Redis twice in a row). The api keeps
serving without Redis: no rate limit, no cache; `archive_api_redis_up` and /readyz say so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from archive_api.metrics import ApiMetrics

log = structlog.get_logger("archive_api.cache")

T = TypeVar("T")

_FAILED = object()


class RedisGuard:
    """Runs Redis operations with a timeout and a breaker; None-safe results via `ok`."""

    def __init__(
        self, client: Redis, metrics: ApiMetrics, *, timeout_s: float, retry_s: float
    ) -> None:
        self.client = client
        self._metrics = metrics
        self._timeout = timeout_s
        self._retry = retry_s
        self._down_until = 0.0
        self.up = True
        metrics.redis_up.set(1)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    async def call(self, operation: str, fn: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        """(True, result), or (False, None) when Redis failed or is being skipped."""
        if not self.available:
            return False, None
        try:
            async with asyncio.timeout(self._timeout):
                result = await fn()
        except (RedisError, OSError, TimeoutError) as exc:
            self._metrics.redis_errors.labels(operation).inc()
            self._down_until = time.monotonic() + self._retry
            if self.up:
                log.warning("redis_down", operation=operation, error=repr(exc)[:200])
            self.up = False
            self._metrics.redis_up.set(0)
            return False, None
        if not self.up:
            log.info("redis_up")
            self.up = True
            self._metrics.redis_up.set(1)
        return True, result

    async def ping(self) -> bool:
        """For /readyz: ignores the breaker, so readiness notices a recovered Redis."""
        try:
            async with asyncio.timeout(max(self._timeout, 0.5)):
                await self.client.ping()
        except (RedisError, OSError, TimeoutError):
            return False
        if not self.up:
            self._down_until = 0.0
        return True


class Cache:
    """Aggregates cached in Redis for `ttl_s` (time-based invalidation only), single-flight
    per process so a burst of misses computes once."""

    def __init__(self, guard: RedisGuard, prefix: str, ttl_s: float, metrics: ApiMetrics) -> None:
        self._guard = guard
        self._prefix = f"{prefix}cache:"
        self._ttl_ms = int(ttl_s * 1000)
        self._metrics = metrics
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def get(self, key: str, kind: type[T], compute: Callable[[], Awaitable[T]]) -> T:
        """The cached value of `key`, else `compute()` stored for the TTL."""
        if self._ttl_ms <= 0:
            self._metrics.cache_requests.labels("bypass").inc()
            return await compute()
        full = self._prefix + key
        ok, raw = await self._guard.call("cache", lambda: self._guard.client.get(full))
        if ok and raw is not None:
            try:
                value = msgspec.msgpack.decode(
                    raw if isinstance(raw, bytes) else raw.encode(), type=kind
                )
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass  # written by an older version with another shape: recompute below
            else:
                self._metrics.cache_requests.labels("hit").inc()
                return value
        self._metrics.cache_requests.labels("miss" if ok else "bypass").inc()
        pending = self._inflight.get(full)
        if pending is not None:
            result: T = await asyncio.shield(pending)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[full] = future
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(value)
        finally:
            del self._inflight[full]
        if ok:
            encoded = msgspec.msgpack.encode(value)
            await self._guard.call(
                "cache", lambda: self._guard.client.set(full, encoded, px=self._ttl_ms)
            )
        return value


class Memo:
    """A small per-process cache with expiry, for cheap values asked for again and again
    (capped totals of a filter, the words of a search): saves a database round trip per page
    at the cost of a total up to `ttl_s` old."""

    def __init__(self, ttl_s: float, max_entries: int = 4096) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._data: dict[Any, tuple[float, Any]] = {}

    async def get(self, key: Any, compute: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        value = await compute()
        if self._ttl > 0:
            if len(self._data) >= self._max:
                self._data = {k: v for k, v in self._data.items() if v[0] > now}
                if len(self._data) >= self._max:
                    self._data.clear()
            self._data[key] = (now + self._ttl, value)
        return value
