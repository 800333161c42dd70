"""Reconnect backoff bounds and the small helpers of the IRC client."""

from __future__ import annotations

import random

import pytest

from archive_ingestor.connection import _chunks, anonymous_login, backoff_delay


@pytest.mark.parametrize("attempt", [0, 1, 2, 5, 10, 100], ids=lambda a: f"attempt:{a}")
def test_backoff_stays_within_its_bounds(attempt: int) -> None:
    """Each delay is between half and all of min * 2**attempt, and never above the maximum."""
    rng = random.Random(attempt)
    step = min(60.0, 1.0 * 2**attempt)
    for _ in range(200):
        delay = backoff_delay(attempt, 1.0, 60.0, rng)
        assert step / 2 <= delay <= step
        assert delay <= 60.0


def test_backoff_grows_then_caps() -> None:
    """Later attempts wait longer on average, until the cap."""
    rng = random.Random(1)

    def mean(attempt: int) -> float:
        return sum(backoff_delay(attempt, 1.0, 30.0, rng) for _ in range(500)) / 500

    assert mean(0) < mean(2) < mean(4)
    assert mean(20) == pytest.approx(mean(30), rel=0.1)


def test_backoff_jitter_spreads_retries() -> None:
    """Jitter keeps a fleet that lost Twitch at once from retrying in lockstep."""
    rng = random.Random(7)
    assert len({round(backoff_delay(3, 1.0, 60.0, rng), 3) for _ in range(50)}) > 40


def test_anonymous_logins_look_like_twitchs() -> None:
    """Anonymous logins are justinfan followed by digits."""
    login = anonymous_login(random.Random(3))
    assert login.startswith("justinfan")
    assert login.removeprefix("justinfan").isdigit()


def test_join_lines_stay_short() -> None:
    """Many channels are split into JOIN lines well under IRC's 512 bytes."""
    chunks = _chunks([f"channel_name_{i:012d}" for i in range(100)])
    assert all(len(f"JOIN {chunk}") <= 460 for chunk in chunks)
    assert sum(chunk.count("#") for chunk in chunks) == 100
