"""Coverage gaps: lost, then covered again, gives one CoverageGap with a stable id."""

from __future__ import annotations

from archive_ingestor.gaps import GapTracker
from twitch_archive.codec import decode_event, encode_event
from twitch_archive.events import CoverageGap


def test_a_lost_channel_covered_again_gives_a_gap() -> None:
    """The gap runs from the last line seen to the moment the channel was joined again."""
    gaps = GapTracker("ingestor-a")
    gaps.lost("xqc", 1_000, "dropped")
    gap = gaps.covered("xqc", 4_500)
    assert gap == CoverageGap(
        id=gap.id if gap else "",
        channel="xqc",
        ts=4_500,
        gap_from=1_000,
        gap_to=4_500,
        reason="dropped",
        ingestor_id="ingestor-a",
    )
    assert gaps.covered("xqc", 5_000) is None


def test_the_earliest_loss_wins() -> None:
    """A second loss before coverage returns does not move the gap's start."""
    gaps = GapTracker("a")
    gaps.lost("xqc", 1_000, "dropped")
    gaps.lost("xqc", 2_000, "silent_server")
    gap = gaps.covered("xqc", 3_000)
    assert gap is not None
    assert (gap.gap_from, gap.reason) == (1_000, "dropped")


def test_gap_ids_are_stable_and_round_trip() -> None:
    """Two trackers that see the same gap make the same id, and the event survives the codec."""
    first, second = GapTracker("a"), GapTracker("a")
    for tracker in (first, second):
        tracker.lost("xqc", 10, "dropped")
    a, b = first.covered("xqc", 20), second.covered("xqc", 20)
    assert a is not None
    assert b is not None
    assert a.id == b.id
    assert decode_event(encode_event(a)) == a


def test_forgotten_channels_give_no_gap() -> None:
    """A channel that is no longer ours closes no gap here."""
    gaps = GapTracker("a")
    gaps.lost("xqc", 10, "dropped")
    gaps.forget("xqc")
    assert gaps.covered("xqc", 20) is None
    assert len(gaps) == 0
