"""Many channels over many connections, JOINs paced within the simulator's (Twitch's) limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable


async def test_joins_500_channels_over_several_connections_within_the_limit(
    simulators, ingestors, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """500 channels end up joined over 6 connections of at most 90, and no JOIN is refused."""
    channels = [f"chan_{i:03d}" for i in range(500)]
    sim = await simulators(rate=0, join_limit=20, join_window_s=1.0)
    app = await ingestors(sim.irc_url, channels, joins_per_window=20, join_window_s=1)
    await wait_for(lambda: app.pool.joined_count() == 500, 30, "500 channels joined")
    stats = sim.stats()
    assert stats.joins_refused == 0
    assert stats.joins == 500
    per_connection = [len(joined) for joined in stats.channels.values()]
    assert len(per_connection) == 6
    assert max(per_connection) <= 90
    assert sorted(ch for joined in stats.channels.values() for ch in joined) == channels


async def test_one_login_paces_its_joins_across_all_its_connections(
    simulators, ingestors, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """With credentials, every connection shares one login's JOIN budget, and stays within it."""
    channels = [f"chan_{i:03d}" for i in range(120)]
    sim = await simulators(rate=0, join_limit=30, join_window_s=1.0, oauth_tokens="sekrit")
    app = await ingestors(
        sim.irc_url,
        channels,
        twitch_username="archivebot",
        twitch_oauth_token="sekrit",
        joins_per_window=30,
        channels_per_connection=40,
    )
    took = await wait_for(lambda: app.pool.joined_count() == 120, 30, "120 channels joined")
    stats = sim.stats()
    assert stats.joins_refused == 0
    assert len(stats.channels) == 3
    assert took >= 3 * 1.0 * 0.9  # 120 JOINs at 30 per second need at least three windows


async def test_refused_joins_are_reported_and_retried(
    simulators, ingestors, wait_for: Callable[..., Awaitable[float]], metric: Callable[..., float]
) -> None:
    """JOINs the server refuses (rate limit NOTICE) are counted and retried until joined."""
    channels = [f"chan_{i:02d}" for i in range(30)]
    sim = await simulators(rate=0, join_limit=10, join_window_s=1.0)
    app = await ingestors(
        sim.irc_url, channels, joins_per_window=30, join_window_s=1, join_retry_max_s=1
    )
    await wait_for(lambda: app.pool.joined_count() == 30, 30, "30 channels joined")
    assert sim.stats().joins_refused > 0
    refused = metric(app, "archive_ingestor_join_failures_total", reason="ratelimit")
    assert refused == sim.stats().joins_refused


async def test_unreachable_twitch_is_retried_without_crashing(
    simulators, ingestors, wait_for: Callable[..., Awaitable[float]], metric: Callable[..., float]
) -> None:
    """With nothing listening at TWITCH_IRC_URL the ingestor keeps retrying and stays up."""
    app = await ingestors("ws://127.0.0.1:9/", ["somechannel"])
    await wait_for(
        lambda: metric(app, "archive_ingestor_connection_attempts_total", result="failed") >= 3,
        10,
        "three failed connection attempts",
    )
    assert not await app.ready()
    assert app.pool.connections[0]._task is not None
    assert not app.pool.connections[0]._task.done()
