"""Replicas divide the channels, rebalance within seconds; REPLICATION=2 loses nothing."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Awaitable, Callable

from twitch_archive.events import CoverageGap
from twitch_archive.simulator import SimulatorHandle

CHANNELS = [f"chan_{i:02d}" for i in range(40)]


def coverage(sim: SimulatorHandle) -> Counter[str]:
    """How many open connections have each channel joined."""
    return Counter(ch for joined in sim.stats().channels.values() for ch in joined)


async def test_a_second_replica_takes_over_about_half_the_channels_within_seconds(
    simulators, ingestors, stream, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """A replica starting takes about half the channels; the first parts them once it has them."""
    sim = await simulators(channels=CHANNELS, rate=5, seed=2, join_window_s=1.0)
    first = await ingestors(sim.irc_url, CHANNELS, ingestor_id="replica-a")
    await wait_for(lambda: first.pool.joined_count() == 40, 20, "replica-a joined all")

    second = await ingestors(sim.irc_url, ingestor_id="replica-b")
    took = await wait_for(
        lambda: (
            first.pool.joined_count() + second.pool.joined_count() == 40
            and coverage(sim).total() == 40
            and second.pool.joined_count() > 0
        ),
        10,
        "the channels split between the replicas",
    )
    assert took < 5
    assert 0.3 <= second.pool.joined_count() / 40 <= 0.7
    assert set(first.pool.channels).isdisjoint(second.pool.channels)
    assert second.assignment is not None
    assert second.assignment.live_replicas() == ["replica-a", "replica-b"]

    await second.stop()
    await wait_for(lambda: first.pool.joined_count() == 40, 10, "replica-a has all back")
    sim.pause()
    await sim.flush()
    sent = {i for ids in sim.all_sent_ids().values() for i in ids}
    events = await stream.wait_for_ids(sent, within_s=20)
    assert not [e for e in events if isinstance(e, CoverageGap)]  # make-before-break both ways


async def test_replication_two_with_one_replica_killed_keeps_every_event_exactly_once(
    simulators, ingestor_processes, stream, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """Two replicas with REPLICATION=2, one SIGKILLed mid-stream: every sent event, once each."""
    channels = CHANNELS[:20]
    sim = await simulators(channels=channels, rate=15, seed=3, join_window_s=1.0)
    sim.pause()  # no traffic until both replicas have every channel
    a = ingestor_processes(sim.irc_url, channels, replication=2, ingestor_id="replica-a")
    ingestor_processes(sim.irc_url, channels, replication=2, ingestor_id="replica-b")
    await wait_for(
        lambda: set(coverage(sim).values()) == {2} and len(coverage(sim)) == 20,
        30,
        "both replicas joined every channel",
    )
    sim.resume()
    await asyncio.sleep(1.5)  # mid-stream: traffic flows to both replicas
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=5)
    await asyncio.sleep(1.5)  # and on to the survivor alone
    sim.pause()
    await sim.flush()

    sent = {i for ids in sim.all_sent_ids().values() for i in ids}
    assert len(sent) > 300
    events = await stream.wait_for_ids(sent, within_s=20)
    chat = [e.id for e in events if not isinstance(e, CoverageGap)]
    assert len(chat) == len(set(chat))  # JetStream dropped the second copy of each
    assert set(chat) == sent
