"""Malformed lines and a NATS outage: counted, bounded, and nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from structlog.testing import capture_logs

MALFORMED = [
    "@badge-info=;id=abc :u!u@u.tmi.twitch.tv PRIVMSG",
    ":u!u@u.tmi.twitch.tv PRIVMSG #chan_a  :two spaces",
    "@id=1;room-id=1;tmi-sent-ts=abc :u!u@u.tmi.twitch.tv PRIVMSG #chan_a :bad ts",
    "@a=b",
]


async def test_malformed_lines_are_counted_logged_and_skipped(
    simulators,
    ingestors,
    stream,
    wait_for: Callable[..., Awaitable[float]],
    metric: Callable[..., float],
) -> None:
    """Each malformed line is counted by reason and logged with its raw text; the rest flows."""
    sim = await simulators(rate=0, join_window_s=1.0)
    app = await ingestors(sim.irc_url, ["chan_a"])
    await wait_for(lambda: app.pool.joined_count() == 1, 10, "chan_a joined")
    with capture_logs() as logs:
        before = await sim.send("chan_a", text="before the junk")
        await sim.inject(MALFORMED, channel="chan_a")
        after = await sim.send("chan_a", text="after the junk")
        events = await stream.wait_for_ids({before.event.id, after.event.id}, within_s=10)
    assert [e.id for e in events] == [before.event.id, after.event.id]
    assert metric(app, "archive_ingestor_lines_total", command="malformed") == len(MALFORMED)
    assert metric(app, "archive_ingestor_parse_errors_total", reason="missing_param") == 1
    assert metric(app, "archive_ingestor_parse_errors_total", reason="malformed_params") == 1
    assert metric(app, "archive_ingestor_parse_errors_total", reason="malformed_tag_value") == 1
    assert metric(app, "archive_ingestor_parse_errors_total", reason="missing_command") == 1
    warned = [e for e in logs if e["event"] == "irc_line_malformed"]
    assert [e["line"] for e in warned] == MALFORMED
    assert {e["log_level"] for e in warned} == {"warning"}


# nats-py leaves the socket of a reconnect attempt the cut proxy closed before INFO to the GC
# (nats/aio/client.py raises "empty response ... expecting INFO" without closing it).
@pytest.mark.filterwarnings("ignore:unclosed <StreamWriter:ResourceWarning")
async def test_nats_outage_backpressures_within_the_bound_and_loses_nothing(
    simulators,
    ingestors,
    stream,
    nats_url: str,
    tcp_proxy,
    wait_for: Callable[..., Awaitable[float]],
    metric: Callable[..., float],
) -> None:
    """With NATS cut, the buffer fills to its bound, reads stop, and all is published after."""
    channels = [f"chan_{i}" for i in range(10)]
    proxy = await tcp_proxy(nats_url)
    sim = await simulators(channels=channels, rate=60, seed=9, join_window_s=1.0)
    app = await ingestors(
        sim.irc_url,
        channels,
        nats_url=proxy.url_for(nats_url),
        buffer_max_events=300,
        max_in_flight=50,
        silence_timeout_s=2,
        keepalive_s=0.5,
    )
    publisher = app.publisher
    assert publisher is not None
    await wait_for(lambda: app.pool.joined_count() == 10, 20, "10 channels joined")
    await wait_for(lambda: publisher.acked > 200, 10, "events flowing")

    proxy.cut()
    await wait_for(lambda: publisher.blocked, 10, "the publish buffer full")
    # Held past the silence timeout: a paused reader must not be mistaken for a silent server.
    await asyncio.sleep(2.5)
    assert publisher.blocked
    assert publisher.buffered <= 300
    assert metric(app, "archive_ingestor_queue_depth", queue="publish_buffer") <= 300
    assert metric(app, "archive_ingestor_reconnects_total", reason="silent_server") == 0

    proxy.restore()
    await wait_for(lambda: not publisher.blocked, 15, "the buffer drained")
    await asyncio.sleep(0.5)  # traffic after the outage too
    sim.pause()
    await sim.flush()
    sent = {i for ids in sim.all_sent_ids().values() for i in ids}
    await stream.wait_for_ids(sent, within_s=30)
    assert publisher.peak_buffered <= 300 + 50  # the bound, plus what was in flight at the cut
    assert metric(app, "archive_ingestor_backpressure_seconds_total") > 2
    assert metric(app, "archive_ingestor_queue_capacity", queue="publish_buffer") == 300
    dropped = metric(
        app, "archive_ingestor_queue_dropped_total", queue="publish_buffer", reason="rejected"
    )
    assert dropped == 0
