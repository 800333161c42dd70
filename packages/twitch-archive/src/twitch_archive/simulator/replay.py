"""Replay a raw IRC log (plain or .gz) onto chosen channels, at its own pace or scaled.

Each replayed line is rewritten for its target: the channel and room-id, a fresh message id
(replies and deletions follow the new ids), and tmi-sent-ts set to the moment it is sent, so the
same log can be replayed again and again without its events colliding with earlier passes.
"""

from __future__ import annotations

import asyncio
import gzip
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import structlog

from twitch_archive.errors import IrcParseError
from twitch_archive.irc import parse, parse_line
from twitch_archive.simulator.traffic import room_id, seeded, uuid_from

log = structlog.get_logger("twitch_archive.simulator.replay")

REPLAYED_COMMANDS = frozenset(
    {"PRIVMSG", "USERNOTICE", "CLEARCHAT", "CLEARMSG", "ROOMSTATE", "NOTICE", "USERSTATE"}
)
"""Channel traffic; connection-level lines of a log (PING, numerics, JOIN, CAP) are skipped."""
_DERIVED_ID_COMMANDS = frozenset({"CLEARCHAT", "CLEARMSG"})
_ID_TAGS = ("reply-parent-msg-id", "reply-thread-parent-msg-id", "target-msg-id")
_BATCH = 512


def read_log(path: str | Path) -> Iterator[str]:
    """The non-empty lines of a raw log, plain or gzipped, without their line ends."""
    with Path(path).open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line:
                yield line


def log_ts(raw: str) -> int | None:
    """The tmi-sent-ts of a raw line, without parsing the rest of it."""
    if not raw.startswith("@"):
        return None
    start = raw.find("tmi-sent-ts=")
    end_tags = raw.find(" ")
    if start < 0 or (0 <= end_tags < start):
        return None
    start += len("tmi-sent-ts=")
    end = start
    while end < len(raw) and raw[end] not in "; ":
        end += 1
    value = raw[start:end]
    return int(value) if value.lstrip("-").isdecimal() else None


class Rewriter:
    """Rewrites the lines of one log for one target channel, keeping their ids consistent."""

    def __init__(self, channel: str, rng: random.Random | None = None) -> None:
        self.channel = channel
        self.room_id = room_id(channel)
        self._rng = rng if rng is not None else seeded(None)
        self._ids: dict[str, str] = {}
        self._last_mod_ts = 0

    def rewrite(self, raw: str, now_ms: int) -> tuple[str, str | None] | None:
        """(new line, its event id or None), or None for a line that is not channel traffic.

        A line the grammar rejects is passed through unchanged (id None): logs hold malformed
        lines too, and replaying them is part of the point.
        """
        try:
            split = parse_line(raw)
        except IrcParseError:
            return raw, None
        if split.command not in REPLAYED_COMMANDS:
            return None
        if not split.params or not split.params[0].startswith("#"):
            return None
        if split.command in _DERIVED_ID_COMMANDS:
            # Their ids hash the timestamp: two in one millisecond would become one event.
            now_ms = self._last_mod_ts = max(now_ms, self._last_mod_ts + 1)
        line = self._rewrite_tags(raw, now_ms) if raw.startswith("@") else raw
        line = _replace_channel(line, self.channel)
        try:
            event = parse(line)
        except IrcParseError:
            return line, None
        return line, (event.id if event is not None else None)

    def _rewrite_tags(self, raw: str, now_ms: int) -> str:
        space = raw.index(" ")
        items = raw[1:space].split(";")
        for i, item in enumerate(items):
            key, eq, value = item.partition("=")
            if not eq:
                continue
            if key == "id":
                fresh = uuid_from(self._rng)
                if value:
                    self._ids[value] = fresh
                items[i] = f"id={fresh}"
            elif key == "room-id":
                items[i] = f"room-id={self.room_id}"
            elif key == "tmi-sent-ts":
                items[i] = f"tmi-sent-ts={now_ms}"
            elif key in _ID_TAGS:
                items[i] = f"{key}={self._ids.get(value, value)}"
        return "@" + ";".join(items) + raw[space:]


def _replace_channel(line: str, channel: str) -> str:
    """`line` with its first param (`#channel`) replaced."""
    pos = 0
    if line.startswith("@"):
        pos = line.index(" ") + 1
    if line.startswith(":", pos):
        pos = line.index(" ", pos) + 1
    pos = line.index(" ", pos) + 1  # after the command
    end = line.find(" ", pos)
    return f"{line[:pos]}#{channel}" + ("" if end < 0 else line[end:])


class ReplaySink(Protocol):
    """Where a replay writes (the simulator)."""

    def publish(self, channel: str, line: str, event_id: str | None) -> int:
        """Queue a line to every connection that joined `channel`; returns how many."""
        ...

    async def wait_writable(self) -> None:
        """Return once no connection's queue is over its bound."""
        ...


class Replay:
    """One replay of a log file onto channels (all channels get every line, each its own ids)."""

    def __init__(
        self,
        path: str | Path,
        channels: list[str],
        speed: float | None,
        *,
        loop: bool = False,
        seed: int | None = None,
    ) -> None:
        if not channels:
            raise ValueError("a replay needs at least one channel")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no replay file at {self.path}")
        self.channels = list(channels)
        self.speed = speed
        self.loop = loop
        rng = seeded(seed)
        # One rewriter per channel for the whole replay: later passes keep mapping ids afresh
        # and keep derived-id timestamps increasing.
        self._rewriters = [Rewriter(channel, rng) for channel in self.channels]
        self.lines_read = 0
        self.lines_sent = 0
        self.passes = 0

    async def run(self, sink: ReplaySink) -> None:
        """Replay until the log ends (or forever with `loop`)."""
        while True:
            await self._pass(sink)
            self.passes += 1
            await asyncio.sleep(0)  # a short log at max speed must not starve the loop
            log.debug(
                "replay pass done", file=str(self.path), passes=self.passes, lines=self.lines_read
            )
            if not self.loop:
                return

    async def _pass(self, sink: ReplaySink) -> None:
        rewriters = self._rewriters
        first_ts: int | None = None
        latest = 0
        start = time.monotonic()
        pending = 0
        for raw in read_log(self.path):
            self.lines_read += 1
            ts = log_ts(raw)
            if ts is not None:
                if first_ts is None:
                    first_ts = ts
                latest = max(latest, ts - first_ts)
            if self.speed is not None:
                due = start + latest / 1000 / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                    pending = 0
            now_ms = time.time_ns() // 1_000_000
            for rewriter in rewriters:
                rewritten = rewriter.rewrite(raw, now_ms)
                if rewritten is not None:
                    sink.publish(rewriter.channel, rewritten[0], rewritten[1])
                    self.lines_sent += 1
            pending += 1
            if pending >= _BATCH:
                pending = 0
                await sink.wait_writable()
                await asyncio.sleep(0)
