"""The hot path: raw IRC lines of one WebSocket frame -> events -> encoded -> publisher.

One parse per line, one encode per event, a cached subject per channel and type, and metrics
counted once per frame; malformed lines are counted, logged (rate-limited) and skipped.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Final

import structlog

from archive_ingestor.metrics import IngestorMetrics
from archive_ingestor.publisher import Publisher
from twitch_archive.codec import encode_event
from twitch_archive.errors import IrcParseError
from twitch_archive.events import ChatEvent, CoverageGap, Message, ModAction, UserNotice
from twitch_archive.irc import parse
from twitch_archive.subjects import Names

log = structlog.get_logger("archive_ingestor.ingest")

ControlHandler = Callable[[str], None]
"""Handles a line that is not a chat event (PING, JOIN, NOTICE, RECONNECT, numerics...)."""

MALFORMED_LOGS_PER_S: Final = 10
"""Malformed lines logged per second at most; the rest are counted, and summed in the next log."""
SUBJECT_CACHE_MAX: Final = 200_000

_COMMAND_OF: Final = {Message: "PRIVMSG", UserNotice: "USERNOTICE"}
_TAG_OF: Final[dict[type, str]] = {
    cls: cls.__struct_config__.tag  # type: ignore[misc]  # every ChatEvent class has a str tag
    for cls in (Message, UserNotice, ModAction, CoverageGap)
}


class Ingest:
    """Turns frames into published events; shared by every connection of the process."""

    def __init__(self, names: Names, publisher: Publisher, metrics: IngestorMetrics) -> None:
        self._names = names
        self._publisher = publisher
        self._metrics = metrics
        self._subjects: dict[tuple[str, type], str] = {}
        self._events = {cls: metrics.events.labels(tag) for cls, tag in _TAG_OF.items()}
        self._lines = {cmd: metrics.lines.labels(cmd) for cmd in ("PRIVMSG", "USERNOTICE")}
        self._clearchat = metrics.lines.labels("CLEARCHAT")
        self._clearmsg = metrics.lines.labels("CLEARMSG")
        self._log_window = 0.0
        self._logged = 0
        self._suppressed = 0
        self.malformed = 0

    def subject(self, event: ChatEvent) -> str:
        """The subject of an event (cached per channel and type)."""
        key = (event.channel, type(event))
        subject = self._subjects.get(key)
        if subject is None:
            if len(self._subjects) >= SUBJECT_CACHE_MAX:
                self._subjects.clear()
            subject = self._names.chat_subject(event.channel, _TAG_OF[type(event)])  # type: ignore[arg-type]  # tags are EventType
            self._subjects[key] = subject
        return subject

    async def publish(self, event: ChatEvent) -> None:
        """Publish one event built here (coverage gaps)."""
        await self._publisher.publish(self.subject(event), encode_event(event), event.id)
        self._events[type(event)].inc()

    async def frame(self, lines: list[str], received_ms: int, control: ControlHandler) -> int:
        """Parse and publish the lines of one frame; returns how many were chat events."""
        publish: Callable[[str, bytes, str], Awaitable[None]] = self._publisher.publish
        subjects = self._subjects
        counts: dict[type, int] = {}
        deletes = 0
        for line in lines:
            if not line:
                continue
            try:
                event = parse(line, received_ts=received_ms)
            except IrcParseError as exc:
                self._malformed(exc)
                continue
            if event is None:
                control(line)
                continue
            cls = type(event)
            subject = subjects.get((event.channel, cls))
            if subject is None:
                subject = self.subject(event)
            await publish(subject, encode_event(event), event.id)
            counts[cls] = counts.get(cls, 0) + 1
            if isinstance(event, ModAction) and event.action == "delete":
                deletes += 1
        total = 0
        for cls, count in counts.items():
            total += count
            self._events[cls].inc(count)
            command = _COMMAND_OF.get(cls)
            if command is not None:
                self._lines[command].inc(count)
            elif cls is ModAction:
                if count > deletes:
                    self._clearchat.inc(count - deletes)
                if deletes:
                    self._clearmsg.inc(deletes)
        return total

    def _malformed(self, exc: IrcParseError) -> None:
        self.malformed += 1
        self._metrics.parse_errors.labels(exc.reason.value).inc()
        self._metrics.lines.labels("malformed").inc()
        now = time.monotonic()
        if now - self._log_window >= 1.0:
            self._log_window = now
            self._logged = 0
        if self._logged >= MALFORMED_LOGS_PER_S:
            self._suppressed += 1
            return
        self._logged += 1
        suppressed, self._suppressed = self._suppressed, 0
        log.warning(
            "irc_line_malformed",
            reason=exc.reason.value,
            detail=exc.detail,
            tag=exc.tag,
            line=exc.line[:2000],
            suppressed_since_last=suppressed,
        )
