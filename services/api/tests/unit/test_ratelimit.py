"""The sliding-window decision of the rate limit."""

from __future__ import annotations

import pytest

from archive_api.ratelimit import decide


def test_under_the_limit_is_allowed_with_the_remaining_budget():
    """Requests within the budget pass and say how many are left."""
    decision = decide(limit=100, previous=0, current=40, elapsed=30.0)
    assert decision.allowed
    assert decision.remaining == 60
    assert decision.reset_s == 30


def test_the_previous_minute_still_counts_in_part():
    """Half-way through a minute, half of the last minute's requests still count."""
    assert not decide(limit=100, previous=120, current=41, elapsed=30.0).allowed
    assert decide(limit=100, previous=120, current=40, elapsed=30.0).allowed


@pytest.mark.parametrize(
    ("previous", "current", "elapsed"),
    [(120, 50, 30.0), (0, 150, 10.0), (200, 101, 59.0)],
    ids=["previous-decays", "this-minute-full", "late-in-minute"],
)
def test_a_refusal_says_when_to_retry(previous, current, elapsed):
    """A refused request gets Retry-After at least 1 s, and retrying then is allowed."""
    decision = decide(limit=100, previous=previous, current=current, elapsed=elapsed)
    assert not decision.allowed
    assert decision.retry_after_s >= 1
    headers = dict(decision.headers())
    assert headers[b"retry-after"] == str(decision.retry_after_s).encode()
    later = elapsed + decision.retry_after_s
    if later < 60:
        assert decide(100, previous, current - 1, later).allowed
    else:
        assert decide(100, current, 0, later - 60).allowed
