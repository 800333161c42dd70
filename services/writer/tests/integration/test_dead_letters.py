"""Bad events go to the dead-letter stream with the reason and never block the ones after them."""

from __future__ import annotations

import pytest

from twitch_archive.bus import event_subject
from twitch_archive.codec import encode_event
from twitch_archive.subjects import HEADER_ERROR, HEADER_ORIGINAL_SUBJECT

pytestmark = pytest.mark.timeout(60)


def _poison(kit, kind: str) -> tuple[str, bytes]:
    """(subject, payload) of one bad event of the given kind."""
    good = kit.events.message(500)
    subject = event_subject(kit.names, good)
    if kind == "undecodable":
        return subject, b"this is not JSON {"
    if kind == "contract_violation":
        return subject, b'{"type": "message", "id": "x1", "channel": "c", "ts": "yesterday"}'
    if kind == "invalid_channel":
        bad = kit.events.message(501, channel="Not-A-Login!")
        return subject, encode_event(bad)
    # store_rejected: valid for the contract, refused by PostgreSQL (no NUL in text columns).
    return subject, encode_event(kit.events.message(502, text="nul \x00 inside"))


@pytest.mark.parametrize(
    "kind", ["undecodable", "contract_violation", "invalid_channel", "store_rejected"]
)
async def test_a_poison_event_is_dead_lettered_and_the_next_ones_land(kit, js, sample, kind):
    """The bad event lands in the DLQ with both headers; the good ones around it are stored."""
    before = kit.events.messages(50)
    subject, payload = _poison(kit, kind)
    after = kit.events.messages(50)
    await kit.publish(before)
    await kit.publish_raw(subject, payload)
    await kit.publish(after)
    async with kit.writer(kit.settings(batch_max_age_ms=300)) as app:
        await kit.wait_all_acked()
        assert sample(app, "archive_writer_dead_lettered_total", reason=kind) == 1
    assert await kit.count("SELECT count(*) FROM messages") == 100

    sub = await js.pull_subscribe(
        kit.names.deadletter_subject, durable=None, stream=kit.names.deadletter_stream
    )
    [dead] = await sub.fetch(1, timeout=5)
    assert dead.data == payload
    assert dead.headers is not None
    assert dead.headers[HEADER_ORIGINAL_SUBJECT] == subject
    assert dead.headers[HEADER_ERROR].startswith(f"{kind}: ")
    info = await js.stream_info(kit.names.deadletter_stream)
    assert info.state.messages == 1


async def test_a_refused_row_is_isolated_by_splitting_the_batch(kit, sample):
    """One refused row among many: the batch is split until it is alone, all the others stored."""
    events = kit.events.messages(999)
    culprit = kit.events.message(1000, text="nul \x00 inside")
    await kit.publish([*events[:600], culprit, *events[600:]])
    async with kit.writer(kit.settings(batch_max_events=5_000, batch_max_age_ms=1_000)) as app:
        await kit.wait_all_acked()
        assert sample(app, "archive_writer_batch_splits_total") >= 10
        assert sample(app, "archive_writer_dead_lettered_total", reason="store_rejected") == 1
    assert await kit.count("SELECT count(*) FROM messages") == 999
    assert await kit.count("SELECT sum(message_count) FROM users") == 999
