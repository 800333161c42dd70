"""The desired set in KV and the API's nudges drive what the ingestor joins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from twitch_archive.events import CoverageGap


async def test_channels_added_and_removed_in_kv_are_joined_and_parted(
    simulators, ingestors, js, test_names, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """A key put into the channels bucket is joined, a deleted key is parted, within seconds."""
    sim = await simulators(rate=0, join_window_s=1.0)
    app = await ingestors(sim.irc_url, ["first"])
    await wait_for(lambda: app.pool.joined_count() == 1, 10, "first joined")
    kv = await js.key_value(test_names.channels_bucket)

    await kv.put("second", b"{}")
    await wait_for(lambda: app.pool.joined_count() == 2, 5, "second joined")
    await kv.delete("first")
    await wait_for(
        lambda: sorted(c for cs in sim.stats().channels.values() for c in cs) == ["second"],
        5,
        "first parted",
    )
    assert app.assignment is not None
    assert app.assignment.desired == {"second"}


async def test_an_empty_bucket_is_not_seeded_again(
    simulators, ingestors, js, test_names, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """CHANNELS seeds the desired set once; a set the API emptied stays empty after a restart."""
    sim = await simulators(rate=0, join_window_s=1.0)
    first = await ingestors(sim.irc_url, ["seeded"], ingestor_id="one")
    await wait_for(lambda: first.pool.joined_count() == 1, 10, "seeded joined")
    kv = await js.key_value(test_names.channels_bucket)
    await kv.delete("seeded")
    await first.stop()

    second = await ingestors(sim.irc_url, ["seeded"], ingestor_id="two")
    assert second.assignment is not None
    assert second.assignment.desired == set()


async def test_a_rejoin_nudge_parts_and_joins_the_channel_and_records_the_gap(
    simulators, ingestors, nc, stream, test_names, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """`{"action": "rejoin", "channel": ...}` on control.channels.changed makes its owner rejoin."""
    sim = await simulators(rate=0, join_window_s=1.0)
    app = await ingestors(sim.irc_url, ["stuck", "fine"])
    await wait_for(lambda: app.pool.joined_count() == 2, 10, "both joined")
    joins = sim.stats().joins

    await nc.publish(
        test_names.control_channels_changed,
        msgspec.json.encode({"action": "rejoin", "channel": "stuck"}),
    )
    await wait_for(lambda: sim.stats().joins == joins + 1, 5, "stuck joined again")
    await wait_for(lambda: app.pool.joined_count() == 2, 5, "both joined again")

    async def gap_stored() -> bool:
        return await stream.count() >= 1

    await wait_for(gap_stored, 5, "the gap in the stream")
    events = await stream.events()
    gaps = [e for e in events if isinstance(e, CoverageGap)]
    assert [(g.channel, g.reason) for g in gaps] == [("stuck", "rejoin_requested")]
