"""Nothing the simulator sent while a connection was up is lost; what was not covered is a gap."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from twitch_archive.events import CoverageGap
from twitch_archive.simulator import SimulatorHandle

CHANNELS = [f"chan_{i:02d}" for i in range(30)]


def ids_sent_per_connection(sim: SimulatorHandle) -> set[str]:
    """Every event id the simulator wrote to any connection, open or closed."""
    sent: set[str] = set()
    for info in sim.connections():
        sent.update(sim.connection_ids_sent(info.id))
    return sent


async def test_reconnect_storm_and_drops_lose_no_sent_event_and_report_gaps(
    simulators,
    ingestors,
    stream,
    wait_for: Callable[..., Awaitable[float]],
    metric: Callable[..., float],
) -> None:
    """RECONNECT waves and dropped connections lose nothing that was sent, and gaps are events."""
    sim = await simulators(
        channels=CHANNELS, rate=8, seed=4, join_limit=20, join_window_s=1.0, reconnect_grace_s=0.2
    )
    app = await ingestors(sim.irc_url, CHANNELS, channels_per_connection=10)
    await wait_for(lambda: app.pool.joined_count() == 30, 20, "30 channels joined")

    dropped_channels: set[str] = set()
    for wave in range(4):
        # The storm's rhythm: traffic flows between the waves while the ingestor recovers.
        await asyncio.sleep(0.4)
        if wave % 2:
            before = sim.stats().channels
            for conn_id in await sim.drop(1):
                dropped_channels.update(before.get(conn_id, []))
        else:
            await sim.reconnect("all", grace_s=0.1)
    await wait_for(
        lambda: (
            sum(len(c) for c in sim.stats().channels.values()) == 30
            and app.pool.joined_count() == 30
        ),
        20,
        "every channel joined again",
    )
    await asyncio.sleep(0.5)  # traffic on the recovered connections too
    sim.pause()
    await sim.flush()
    sent = ids_sent_per_connection(sim)
    assert len(sent) > 500

    events = await stream.wait_for_ids(sent, within_s=20)
    gaps = [e for e in events if isinstance(e, CoverageGap)]
    assert dropped_channels
    gap_channels = {g.channel for g in gaps if g.reason == "dropped"}
    assert dropped_channels <= gap_channels
    for gap in gaps:
        assert gap.gap_from <= gap.gap_to
        assert gap.ingestor_id == app.settings.ingestor_id
    assert metric(app, "archive_ingestor_gaps_total", reason="dropped") >= len(dropped_channels)
    assert metric(app, "archive_ingestor_reconnects_total", reason="reconnect_requested") >= 2
    assert metric(app, "archive_ingestor_reconnects_total", reason="dropped") >= 2


async def test_reconnect_with_time_to_spare_moves_every_channel_without_a_gap(
    simulators, ingestors, stream, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """A RECONNECT with a grace period is make-before-break: no gap, no loss, old ones closed."""
    sim = await simulators(
        channels=CHANNELS[:12], rate=10, seed=5, join_window_s=1.0, reconnect_grace_s=10
    )
    app = await ingestors(sim.irc_url, CHANNELS[:12], channels_per_connection=6)
    await wait_for(lambda: app.pool.joined_count() == 12, 20, "12 channels joined")
    old = set(sim.stats().channels)
    await sim.reconnect("all")
    await wait_for(
        lambda: (
            not (set(sim.stats().channels) & old)
            and sum(len(c) for c in sim.stats().channels.values()) == 12
        ),
        8,
        "the old connections emptied and closed by the ingestor",
    )
    closed = {c.id: c.close_reason for c in sim.connections() if c.id in old}
    assert set(closed.values()) == {"client closed"}
    sim.pause()
    await sim.flush()
    events = await stream.wait_for_ids(ids_sent_per_connection(sim), within_s=20)
    assert not [e for e in events if isinstance(e, CoverageGap)]
