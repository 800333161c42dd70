"""Coverage gaps: when a channel stops being covered and when it is covered again.

A channel is lost when the last session that had it joined goes away (its last line or PONG is
the gap's start); when a session joins it again, the stretch between becomes a CoverageGap event.
"""

from __future__ import annotations

from twitch_archive.events import CoverageGap
from twitch_archive.ids import derived_id


class GapTracker:
    """Per channel: since when it is uncovered, and why."""

    def __init__(self, ingestor_id: str) -> None:
        self.ingestor_id = ingestor_id
        self._lost: dict[str, tuple[int, str]] = {}

    def __len__(self) -> int:
        return len(self._lost)

    def __contains__(self, channel: object) -> bool:
        return channel in self._lost

    def lost(self, channel: str, since_ms: int, reason: str) -> None:
        """`channel` is uncovered since `since_ms`; an earlier start of the same gap wins."""
        if channel not in self._lost:
            self._lost[channel] = (since_ms, reason)

    def covered(self, channel: str, now_ms: int) -> CoverageGap | None:
        """`channel` is covered again at `now_ms`: the gap it closes, if it was lost."""
        entry = self._lost.pop(channel, None)
        if entry is None:
            return None
        since_ms, reason = entry
        return coverage_gap(channel, min(since_ms, now_ms), now_ms, reason, self.ingestor_id)

    def forget(self, channel: str) -> None:
        """`channel` is no longer ours: its gap will never close here."""
        self._lost.pop(channel, None)


def coverage_gap(
    channel: str, gap_from: int, gap_to: int, reason: str, ingestor_id: str
) -> CoverageGap:
    """The CoverageGap event for one gap (its id is stable, so a retry publishes no duplicate)."""
    return CoverageGap(
        id=derived_id("coverage_gap", channel, gap_from, gap_to, ingestor_id),
        channel=channel,
        ts=gap_to,
        gap_from=gap_from,
        gap_to=gap_to,
        reason=reason,
        ingestor_id=ingestor_id,
    )
