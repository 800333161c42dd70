"""The per-client-IP rate limit, shared by every replica through Redis (fails open).

A sliding window approximated from two fixed one-minute counters (Cloudflare's method): the
count is `previous * (time left in this minute / 60) + current`. One pipelined round trip per
request: INCR + EXPIRE of this minute's key and GET of the last one. Answers carry
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`; a refused request gets
429 with `Retry-After`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from archive_api.cache import RedisGuard
from archive_api.errors import ErrorBody
from archive_api.metrics import ApiMetrics

WINDOW_S = 60
EXEMPT_PREFIXES = ("/api/schema",)


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        out = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_s).encode()),
        ]
        if not self.allowed:
            out.append((b"retry-after", str(self.retry_after_s).encode()))
        return out


def decide(limit: int, previous: int, current: int, elapsed: float) -> Decision:
    """Whether the `current`-th request of this window is allowed, `elapsed` s into it."""
    weight = (WINDOW_S - elapsed) / WINDOW_S
    count = previous * weight + current
    reset_s = max(1, math.ceil(WINDOW_S - elapsed))
    allowed = count <= limit
    retry = 0
    if not allowed:
        if current > limit:
            # Even a forgotten previous minute would not do: wait into the next window until
            # this minute's share has decayed below the limit.
            retry = reset_s + math.ceil(WINDOW_S * (1 - limit / current))
        else:
            # The previous minute's share decays linearly: wait until it is small enough.
            retry = math.ceil(WINDOW_S * (count - limit) / previous) if previous else reset_s
        retry = max(1, retry)
    remaining = max(0, math.floor(limit - count))
    return Decision(allowed, limit, remaining, reset_s, retry)


class RateLimiter:
    """Counts requests per client IP in Redis."""

    def __init__(self, guard: RedisGuard, prefix: str, limit: int, metrics: ApiMetrics) -> None:
        self._guard = guard
        self._prefix = f"{prefix}rl:"
        self.limit = limit
        self._metrics = metrics

    async def hit(self, client: str, now: float | None = None) -> Decision | None:
        """Count one request of `client`; None when Redis cannot say (fail open)."""
        now = time.time() if now is None else now
        window = int(now // WINDOW_S)
        current_key = f"{self._prefix}{client}:{window}"
        previous_key = f"{self._prefix}{client}:{window - 1}"

        async def run() -> list[Any]:
            pipe = self._guard.client.pipeline(transaction=False)
            # Pipeline methods queue the command and return the pipeline (typed as awaitable).
            _ = pipe.incr(current_key)
            _ = pipe.expire(current_key, 2 * WINDOW_S)
            _ = pipe.get(previous_key)
            result: list[Any] = await pipe.execute()
            return result

        ok, result = await self._guard.call("ratelimit", run)
        if not ok or result is None:
            return None
        current, _, previous = result
        decision = decide(self.limit, int(previous or 0), int(current), now % WINDOW_S)
        if not decision.allowed:
            self._metrics.rate_limited.inc()
        return decision


_encoder = msgspec.json.Encoder()


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """ASGI middleware around the routes under /api (health, metrics and docs are exempt)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"  # type: ignore[comparison-overlap]  # lifespan scopes too
            or not path.startswith("/api/")
            or path.startswith(EXEMPT_PREFIXES)
            or scope.get("method") == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(client_ip(scope))
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            body = _encoder.encode(
                ErrorBody(
                    error="rate_limited",
                    detail=f"more than {decision.limit} requests per minute from this address; "
                    f"retry in {decision.retry_after_s} s",
                )
            )
            start: Any = {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *decision.headers(),
                ],
            }
            await send(start)
            end: Any = {"type": "http.response.body", "body": body}
            await send(end)
            return
        extra = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
