"""JOIN pacing math: never more than the limit in any window, and no slower than needed."""

from __future__ import annotations

import pytest

from archive_ingestor.join_limiter import JoinLimiter, minimum_join_time, schedule


def max_in_any_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


@pytest.mark.parametrize(
    ("channels", "expected"),
    [
        pytest.param(0, 0.0, id="none:0s"),
        pytest.param(1, 0.0, id="one:at-once"),
        pytest.param(20, 0.0, id="twenty:at-once"),
        pytest.param(21, 10.0, id="twenty-one:one-window"),
        pytest.param(90, 40.0, id="ninety:four-windows"),
        pytest.param(10_000, 4990.0, id="ten-thousand:499-windows"),
    ],
)
def test_minimum_join_time(channels: int, expected: float) -> None:
    """The theoretical minimum sends the first batch at once and one batch per window after."""
    assert minimum_join_time(channels, 20, 10.0) == expected


def test_schedule_never_exceeds_the_limit_in_any_window() -> None:
    """Greedy pacing of 95 JOINs never puts more than 20 into any 10 s window."""
    times = schedule(95, JoinLimiter(20, 10.0, margin_s=0.1))
    assert len(times) == 95
    assert max_in_any_window(times, 10.0) <= 20


def test_schedule_is_within_the_margin_of_the_minimum() -> None:
    """90 JOINs take the minimum (40 s) plus one margin per window, not more."""
    times = schedule(90, JoinLimiter(20, 10.0, margin_s=0.1))
    assert times[-1] == pytest.approx(minimum_join_time(90, 20, 10.0) + 4 * 0.1)


def test_first_batch_goes_out_at_once() -> None:
    """A fresh limiter grants the whole limit immediately and nothing more."""
    limiter = JoinLimiter(20, 10.0)
    assert limiter.take(50, now=100.0) == 20
    assert limiter.take(1, now=100.0) == 0
    assert limiter.available(100.0) == 0


def test_sliding_window_frees_slots_as_old_joins_age_out() -> None:
    """Slots come back one by one as the JOINs that used them leave the window."""
    limiter = JoinLimiter(3, 10.0, margin_s=0.0)
    limiter.take(1, now=0.0)
    limiter.take(1, now=4.0)
    limiter.take(1, now=8.0)
    assert limiter.next_slot(9.0) == 10.0
    assert limiter.available(10.0) == 1
    assert limiter.available(14.0) == 2
    assert limiter.available(18.0) == 3


def test_invalid_limits_are_rejected() -> None:
    """A zero limit or window cannot pace anything."""
    with pytest.raises(ValueError, match="limit"):
        JoinLimiter(0, 10.0)
    with pytest.raises(ValueError, match="window"):
        JoinLimiter(20, 0.0)


async def test_acquire_waits_for_the_next_window() -> None:
    """`acquire` returns at once while slots are free, and waits for the window after that."""
    clock = [0.0]
    limiter = JoinLimiter(2, 0.05, margin_s=0.0, clock=lambda: clock[0])
    assert await limiter.acquire(5) == 2
    clock[0] = 0.05
    assert await limiter.acquire(5) == 2
