"""JOIN pacing: at most N JOINs per login in any sliding window (Twitch: 20 per 10 s).

Twitch counts JOINs when it receives them; a small margin on our side keeps a batch that was
delayed on the way from landing inside the previous window.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable

DEFAULT_MARGIN_S = 0.1
"""Added to the window: covers network jitter between two batches of JOINs."""


class JoinLimiter:
    """A sliding-window log of the last `limit` JOINs of one login."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        margin_s: float = DEFAULT_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0 or margin_s < 0:
            raise ValueError("a join limiter needs limit >= 1, window_s > 0 and margin_s >= 0")
        self.limit = limit
        self.window_s = window_s
        self.span_s = window_s + margin_s
        self._clock = clock
        self._sent: deque[float] = deque(maxlen=limit)

    def available(self, now: float) -> int:
        """How many JOINs may go out at `now`."""
        span = self.span_s
        # The same expression as next_slot(), so a slot it names is free at that very moment.
        in_window = sum(1 for sent in self._sent if sent + span > now)
        return self.limit - in_window

    def next_slot(self, now: float) -> float:
        """The earliest moment (>= now) at which one more JOIN may go out."""
        if len(self._sent) < self.limit:
            return now
        return max(now, self._sent[0] + self.span_s)

    def take(self, wanted: int, now: float) -> int:
        """Record up to `wanted` JOINs sent at `now`; returns how many were granted."""
        granted = max(0, min(wanted, self.available(now)))
        self._sent.extend([now] * granted)
        return granted

    async def acquire(self, wanted: int) -> int:
        """Wait until at least one JOIN may go out, then take up to `wanted` of them."""
        while True:
            now = self._clock()
            slot = self.next_slot(now)
            if slot <= now:
                granted = self.take(wanted, now)
                if granted:
                    return granted
                slot = now + 0.001
            await asyncio.sleep(slot - now)


def minimum_join_time(channels: int, limit: int, window_s: float) -> float:
    """The least time N JOINs can take under `limit` per `window_s`: first batch at once."""
    if channels <= 0:
        return 0.0
    return (math.ceil(channels / limit) - 1) * window_s


def schedule(channels: int, limiter: JoinLimiter, start: float = 0.0) -> list[float]:
    """When each of N JOINs would go out from `start` under `limiter` (greedy; for planning)."""
    times: list[float] = []
    now = start
    while len(times) < channels:
        now = limiter.next_slot(now)
        granted = limiter.take(channels - len(times), now)
        times.extend([now] * granted)
    return times
