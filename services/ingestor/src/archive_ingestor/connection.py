"""Twitch IRC over our own aiohttp WebSocket client: one logical connection, many sessions.

An `IrcSession` is one WebSocket: CAP REQ, PASS/NICK, PING/PONG, our own keepalive, JOINs paced by
a `JoinLimiter`, and the read loop that feeds `Ingest`. An `IrcConnection` keeps a set of channels
joined across sessions: it reconnects with exponential backoff and jitter when a session is lost,
and obeys RECONNECT make-before-break (the new session joins each channel before the old one
parts it). Coverage lost and regained on the way becomes a CoverageGap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Final

import aiohttp
import structlog
from aiohttp import WSMsgType

from archive_ingestor.errors import IrcAuthError, IrcConnectError
from archive_ingestor.gaps import GapTracker
from archive_ingestor.ingest import Ingest
from archive_ingestor.join_limiter import JoinLimiter
from archive_ingestor.metrics import IngestorMetrics
from archive_ingestor.publisher import Publisher
from archive_ingestor.settings import IngestorSettings
from twitch_archive.errors import IrcParseError
from twitch_archive.irc import parse_line

log = structlog.get_logger("archive_ingestor.connection")

CAP_REQ: Final = "CAP REQ :twitch.tv/tags twitch.tv/commands twitch.tv/membership"
LOGIN_TIMEOUT_S: Final = 10.0
"""From opening the socket to Twitch's 001 welcome."""
TICK_S: Final = 0.25
"""How often a session checks keepalive, silence and JOIN deadlines."""
STOP_PART_TIMEOUT_S: Final = 5.0
"""At shutdown, how long a session waits for its PARTs to be confirmed before closing."""
JOIN_LINE_MAX: Final = 450
"""Longest JOIN line we send (Twitch's IRC lines are at most 512 bytes)."""
MAX_FRAME_BYTES: Final = 8 << 20
JOIN_FAILURES: Final = {
    "msg_channel_suspended": "suspended",
    "tos_ban": "suspended",
    "msg_banned": "banned",
    "msg_ratelimit": "ratelimit",
    "msg_room_not_found": "not_found",
    "msg_channel_blocked": "blocked",
}
"""NOTICE msg-id -> join failure reason (the JOIN is retried later)."""
AUTH_FAILURES: Final = (
    "Login authentication failed",
    "Login unsuccessful",
    "Improperly formatted auth",
    "Invalid NICK",
)
_KNOWN_COMMANDS: Final = frozenset(
    {"PING", "PONG", "JOIN", "PART", "NOTICE", "RECONNECT", "CAP", "ROOMSTATE", "USERSTATE",
     "GLOBALUSERSTATE", "HOSTTARGET", "WHISPER", "CLEARCHAT", "CLEARMSG", "PRIVMSG", "USERNOTICE"}
)  # fmt: skip


def backoff_delay(attempt: int, min_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: half to all of min_s * 2**attempt, at most max_s."""
    step = min(max_s, min_s * 2 ** min(attempt, 62))
    return rng.uniform(step / 2, step)


def anonymous_login(rng: random.Random) -> str:
    """A `justinfanNNNN` login: Twitch lets anyone read chat under such a name."""
    return f"justinfan{rng.randint(10_000, 99_999_999)}"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Pacer:
    """Spaces out events (new connections) by at least `interval_s`."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        at = max(now, self._next)
        self._next = at + self.interval_s
        if at > now:
            await asyncio.sleep(at - now)


class JoinLimiters:
    """One JoinLimiter per login: shared by every session of a configured account, and a fresh
    one for each anonymous session (each has its own justinfan login)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._shared: dict[str, JoinLimiter] = {}

    def for_login(self, login: str, *, shared: bool) -> JoinLimiter:
        if not shared:
            return JoinLimiter(self.limit, self.window_s)
        limiter = self._shared.get(login)
        if limiter is None:
            limiter = self._shared[login] = JoinLimiter(self.limit, self.window_s)
        return limiter


@dataclasses.dataclass(eq=False, kw_only=True)
class Shared:
    """What every connection of the pool uses."""

    settings: IngestorSettings
    http: aiohttp.ClientSession
    ingest: Ingest
    publisher: Publisher
    metrics: IngestorMetrics
    gaps: GapTracker
    pacer: Pacer
    limiters: JoinLimiters
    rng: random.Random = dataclasses.field(default_factory=random.Random)
    background: set[asyncio.Task[None]] = dataclasses.field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)


class IrcSession:
    """One WebSocket to Twitch, from login to close."""

    def __init__(self, owner: IrcConnection, number: int) -> None:
        shared = owner.shared
        settings = shared.settings
        self.owner = owner
        self.shared = shared
        self.name = f"{owner.index}.{number}"
        self.authenticated = settings.twitch_username is not None
        if settings.twitch_username is not None and settings.twitch_oauth_token is not None:
            self.login = settings.twitch_username.lower()
            token = settings.twitch_oauth_token.reveal()
            self._password: str | None = token if token.startswith("oauth:") else f"oauth:{token}"
        else:
            self.login = anonymous_login(shared.rng)
            self._password = None
        self.limiter = shared.limiters.for_login(self.login, shared=self.authenticated)
        self.joined: set[str] = set()
        self.pending: dict[str, float] = {}
        """Channel -> deadline of its unconfirmed JOIN."""
        self.parting: set[str] = set()
        self.superseded = False
        """Twitch asked for a RECONNECT: channels move to a newer session, then this one closes."""
        self.close_reason: str | None = None
        self.auth_failure: str | None = None
        self.welcome = asyncio.Event()
        self.attention = asyncio.Event()
        """Set when the session ends or Twitch asks us to reconnect."""
        self.ended = asyncio.Event()
        self.quiet = asyncio.Event()
        """Set whenever the session holds no channel and waits for no JOIN or PART answer."""
        self.opened_at = time.monotonic()
        self.last_received = self.opened_at
        self.last_received_ms = time.time_ns() // 1_000_000
        self.lines = 0
        self.events = 0
        self.frames = 0
        self.joins_sent = 0
        self.join_failures = 0
        self.max_joined = 0
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._join_wake = asyncio.Event()
        self._out: list[str] = []
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_ping = self.opened_at
        self._line_counters = {
            cmd: shared.metrics.lines.labels(cmd) for cmd in (*_KNOWN_COMMANDS, "numeric", "other")
        }

    # ------------------------------------------------------------------ open and close

    async def open(self) -> None:
        """Connect, log in and wait for the welcome; raises IrcConnectError (IrcAuthError)."""
        settings = self.shared.settings
        try:
            async with asyncio.timeout(LOGIN_TIMEOUT_S):
                self._ws = await self.shared.http.ws_connect(
                    settings.twitch_irc_url,
                    autoping=True,
                    heartbeat=None,
                    max_msg_size=MAX_FRAME_BYTES,
                    compress=0,
                )
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise IrcConnectError("connect_failed", _describe(exc)) from exc
        self.opened_at = self.last_received = time.monotonic()
        self.last_received_ms = time.time_ns() // 1_000_000
        reader = asyncio.create_task(self._read_loop(), name=f"irc-read-{self.name}")
        self._tasks.append(reader)
        login = [CAP_REQ]
        if self._password is not None:
            login.append(f"PASS {self._password}")
        login.append(f"NICK {self.login}")
        await self._send(login)
        welcome = asyncio.create_task(self.welcome.wait())
        try:
            await asyncio.wait(
                {welcome, reader}, timeout=LOGIN_TIMEOUT_S, return_when="FIRST_COMPLETED"
            )
        finally:
            welcome.cancel()
        if not self.welcome.is_set():
            if self.auth_failure is not None:
                await self.close("auth_failed")
                raise IrcAuthError("auth_failed", self.auth_failure)
            reason = self.close_reason or ("closed_during_login" if reader.done() else "no_welcome")
            await self.close(reason)
            raise IrcConnectError(reason)
        for loop, label in ((self._tick_loop, "tick"), (self._join_loop, "join")):
            self._tasks.append(
                asyncio.create_task(self._guarded(loop), name=f"irc-{label}-{self.name}")
            )

    async def close(self, reason: str) -> None:
        """Close the WebSocket (our side); the read loop then ends the session."""
        if self.close_reason is None:
            self.close_reason = reason
        ws = self._ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await ws.close()
        if not self._tasks:
            self._finish()

    def abort(self) -> None:
        """Cancel the session's tasks (the process is going away)."""
        for task in self._tasks:
            task.cancel()

    def _finish(self) -> None:
        if self.ended.is_set():
            return
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self.ended.set()
        self.quiet.set()
        self.attention.set()
        self.owner.session_ended(self)

    # ------------------------------------------------------------------ sending

    async def _send(self, lines: list[str]) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            return
        # A failed send needs nothing here: the read loop sees the socket end and ends the session.
        with contextlib.suppress(aiohttp.ClientError, ConnectionError, RuntimeError):
            await ws.send_str("\r\n".join(lines) + "\r\n")

    def enqueue_joins(self, channels: Iterable[str]) -> None:
        """Queue JOINs (paced by the session's limiter)."""
        for channel in channels:
            if (
                channel not in self._queued
                and channel not in self.joined
                and channel not in self.pending
            ):
                self._queued.add(channel)
                self._queue.append(channel)
        if self._queue:
            self._join_wake.set()

    def drop_queued(self) -> None:
        self._queue.clear()
        self._queued.clear()

    def part(self, channels: Iterable[str]) -> None:
        """PART channels (confirmations arrive as PART lines)."""
        names = []
        for channel in channels:
            if channel in self._queued:
                self._queued.discard(channel)
            if (channel in self.joined or channel in self.pending) and channel not in self.parting:
                self.parting.add(channel)
                names.append(channel)
        for chunk in _chunks(names):
            self.shared.spawn(self._send([f"PART {chunk}"]), f"irc-part-{self.name}")

    @property
    def busy(self) -> bool:
        """Still holds or is getting a channel (a superseded session closes once it is not)."""
        return bool(self.joined or self.pending or self.parting)

    @property
    def settled(self) -> bool:
        """Every JOIN queued on this session has been answered."""
        return not self._queue and not self.pending

    # ------------------------------------------------------------------ loops

    async def _read_loop(self) -> None:
        ws = self._ws
        assert ws is not None
        frame = self.shared.ingest.frame
        control = self._control
        carry = ""
        reason = "dropped"
        try:
            while True:
                msg = await ws.receive()
                kind = msg.type
                if kind is WSMsgType.TEXT:
                    data: str = msg.data
                elif kind is WSMsgType.BINARY:
                    data = msg.data.decode("utf-8", "replace")
                else:
                    if kind is WSMsgType.CLOSE or kind is WSMsgType.CLOSING:
                        reason = "server_closed"
                    break
                self.last_received = time.monotonic()
                now_ms = self.last_received_ms = time.time_ns() // 1_000_000
                self.frames += 1
                if carry:
                    data = carry + data
                lines = data.split("\r\n")
                carry = lines.pop()
                self.lines += len(lines)
                self.events += await frame(lines, now_ms, control)
                if self._out:
                    out, self._out = self._out, []
                    await self._send(out)
        except (aiohttp.ClientError, ConnectionError):
            reason = "dropped"
        except Exception:  # a bug here must cost a reconnect, never the process
            log.exception("irc_read_failed", session=self.name)
            reason = "internal_error"
        finally:
            if self.close_reason is None:
                self.close_reason = "reconnect_requested" if self.superseded else reason
            self._finish()
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close()

    async def _guarded(self, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must cost a reconnect, never the process
            log.exception("irc_session_task_failed", session=self.name, task=loop.__name__)
            await self.close("internal_error")

    async def _tick_loop(self) -> None:
        settings = self.shared.settings
        publisher = self.shared.publisher
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            if now - self._last_ping >= settings.keepalive_s:
                self._last_ping = now
                await self._send(["PING :tmi.twitch.tv"])
            heard = max(self.last_received, publisher.unblocked_at)
            if not publisher.blocked and now - heard > settings.silence_timeout_s:
                log.warning("irc_server_silent", session=self.name, silent_s=round(now - heard, 1))
                await self.close("silent_server")
                return
            if self.pending:
                expired = [ch for ch, deadline in self.pending.items() if deadline <= now]
                for channel in expired:
                    del self.pending[channel]
                    self._join_failed(channel, "timeout")

    async def _join_loop(self) -> None:
        settings = self.shared.settings
        queue = self._queue
        while True:
            while not queue:
                self._join_wake.clear()
                await self._join_wake.wait()
            granted = await self.limiter.acquire(len(queue))
            batch: list[str] = []
            while queue and len(batch) < granted:
                channel = queue.popleft()
                self._queued.discard(channel)
                if (
                    self.owner.wants(channel)
                    and channel not in self.joined
                    and channel not in self.pending
                ):
                    batch.append(channel)
            if not batch:
                continue
            deadline = time.monotonic() + settings.join_timeout_s
            for channel in batch:
                self.pending[channel] = deadline
            self.joins_sent += len(batch)
            self.shared.metrics.joins.inc(len(batch))
            await self._send([f"JOIN {chunk}" for chunk in _chunks(batch)])

    # ------------------------------------------------------------------ lines that are not events

    def _control(self, line: str) -> None:
        try:
            parsed = parse_line(line)
        except IrcParseError:
            return  # parse() already rejected (and counted) this line
        tags, prefix, command, params = parsed.tags, parsed.prefix, parsed.command, parsed.params
        counter = self._line_counters.get(command)
        if counter is None:
            counter = self._line_counters["numeric" if command.isdigit() else "other"]
        counter.inc()
        if command == "PING":
            self._out.append(f"PONG :{params[-1]}" if params else "PONG :tmi.twitch.tv")
        elif command == "JOIN":
            if params and self._is_me(prefix):
                self._joined(params[0].removeprefix("#"))
        elif command == "PART":
            if params and self._is_me(prefix):
                self._parted(params[0].removeprefix("#"))
        elif command == "NOTICE":
            self._notice(tags, params)
        elif command == "RECONNECT":
            self.superseded = True
            self.drop_queued()
            self.attention.set()
        elif command == "001":
            self.welcome.set()
        elif command == "CAP" and len(params) >= 2 and params[1] == "NAK":
            log.warning("irc_capabilities_refused", session=self.name, caps=params[-1])

    def _is_me(self, prefix: str | None) -> bool:
        if not prefix:
            return False
        nick = prefix.partition("!")[0]
        return nick.lower() == self.login

    def _joined(self, channel: str) -> None:
        self.pending.pop(channel, None)
        if channel in self.joined:
            return
        self.joined.add(channel)
        self.max_joined = max(self.max_joined, len(self.joined))
        self.owner.session_joined(self, channel)

    def _parted(self, channel: str) -> None:
        self.parting.discard(channel)
        self.pending.pop(channel, None)
        if channel in self.joined:
            self.joined.discard(channel)
            self.owner.session_parted(self, channel)
        if not self.busy:
            self.quiet.set()
            if self.superseded:
                self.shared.spawn(self.close("retired"), f"irc-retire-{self.name}")

    def _notice(self, tags: dict[str, str], params: tuple[str, ...]) -> None:
        target = params[0] if params else ""
        text = params[-1] if len(params) > 1 else ""
        msg_id = tags.get("msg-id", "")
        if target.startswith("#"):
            channel = target[1:]
            reason = JOIN_FAILURES.get(msg_id)
            if reason is not None and channel in self.pending:
                del self.pending[channel]
                self._join_failed(channel, reason)
            return
        if any(failure in text for failure in AUTH_FAILURES):
            self.auth_failure = text
        log.info("irc_notice", session=self.name, msg_id=msg_id, text=text[:300])

    def _join_failed(self, channel: str, reason: str) -> None:
        self.join_failures += 1
        if not self.busy:
            self.quiet.set()
        self.owner.join_failed(self, channel, reason)


def _chunks(channels: list[str]) -> list[str]:
    """`#a,#b,...` lists of at most JOIN_LINE_MAX characters."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for channel in channels:
        if current and size + len(channel) + 2 > JOIN_LINE_MAX:
            chunks.append(",".join(current))
            current, size = [], 0
        current.append(f"#{channel}")
        size += len(channel) + 2
    if current:
        chunks.append(",".join(current))
    return chunks


class IrcConnection:
    """A set of at most CHANNELS_PER_CONNECTION channels, kept joined across sessions."""

    def __init__(self, index: int, shared: Shared) -> None:
        self.index = index
        self.shared = shared
        self.channels: set[str] = set()
        self.sessions: list[IrcSession] = []
        self.active: IrcSession | None = None
        self._failures: dict[str, int] = {}
        self._retries: dict[str, asyncio.TimerHandle] = {}
        self._rejoining: set[str] = set()
        self._numbers = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ channel set

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"irc-connection-{self.index}")

    def wants(self, channel: str) -> bool:
        return channel in self.channels

    def add(self, channel: str) -> None:
        self.channels.add(channel)
        active = self.active
        if active is not None and active.welcome.is_set():
            active.enqueue_joins([channel])

    def remove(self, channel: str) -> None:
        self.channels.discard(channel)
        self._failures.pop(channel, None)
        self._rejoining.discard(channel)
        handle = self._retries.pop(channel, None)
        if handle is not None:
            handle.cancel()
        self.shared.gaps.forget(channel)
        for session in self.sessions:
            session.part([channel])

    def rejoin(self, channel: str) -> bool:
        """PART then JOIN `channel` again (the API's `rejoin`); False if not ours."""
        active = self.active
        if channel not in self.channels or active is None:
            return False
        if channel in active.joined:
            self._rejoining.add(channel)
            active.part([channel])
        else:
            active.enqueue_joins([channel])
        return True

    def joined_channels(self) -> set[str]:
        """Wanted channels joined on some open session."""
        joined: set[str] = set()
        for session in self.sessions:
            joined |= session.joined
        return joined & self.channels

    def pending_count(self) -> int:
        """Wanted channels not yet joined and not waiting for a retry after a failure."""
        active = self.active
        joined = active.joined if active is not None else set()
        return sum(1 for ch in self.channels if ch not in joined and ch not in self._retries)

    @property
    def open_sessions(self) -> int:
        return sum(1 for s in self.sessions if s.welcome.is_set() and not s.ended.is_set())

    # ------------------------------------------------------------------ session callbacks

    def session_joined(self, session: IrcSession, channel: str) -> None:
        shared = self.shared
        if channel not in self.channels:
            session.part([channel])
            return
        self._failures.pop(channel, None)
        gap = shared.gaps.covered(channel, session.last_received_ms)
        if gap is not None:
            shared.metrics.gaps.labels(gap.reason).inc()
            shared.metrics.gap_seconds.inc(max(0, gap.gap_to - gap.gap_from) / 1000)
            log.info(
                "coverage_gap",
                channel=channel,
                reason=gap.reason,
                gap_s=round((gap.gap_to - gap.gap_from) / 1000, 3),
            )
            shared.spawn(shared.ingest.publish(gap), "publish-gap")
        if session is self.active:
            for old in self.sessions:
                if old is not session and channel in old.joined:
                    old.part([channel])  # make-before-break: the new session has it now
        elif self.active is not None and channel in self.active.joined:
            session.part([channel])

    def session_parted(self, session: IrcSession, channel: str) -> None:
        if self._stop.is_set() or channel not in self.channels or self._covered(channel):
            return
        reason = "rejoin_requested" if channel in self._rejoining else "parted_by_server"
        self._rejoining.discard(channel)
        self.shared.gaps.lost(channel, time.time_ns() // 1_000_000, reason)
        if self.active is not None:
            self.active.enqueue_joins([channel])

    def join_failed(self, session: IrcSession, channel: str, reason: str) -> None:
        shared = self.shared
        settings = shared.settings
        shared.metrics.join_failures.labels(reason).inc()
        if channel not in self.channels or self._stop.is_set():
            return
        failures = self._failures[channel] = self._failures.get(channel, 0) + 1
        first = settings.join_window_s if reason == "ratelimit" else settings.backoff_min_s
        delay = backoff_delay(failures - 1, first, settings.join_retry_max_s, shared.rng)
        log.warning(
            "irc_join_failed",
            session=session.name,
            channel=channel,
            reason=reason,
            failures=failures,
            retry_in_s=round(delay, 2),
        )
        old = self._retries.pop(channel, None)
        if old is not None:
            old.cancel()
        self._retries[channel] = asyncio.get_running_loop().call_later(
            delay, self._retry_join, channel
        )

    def _retry_join(self, channel: str) -> None:
        self._retries.pop(channel, None)
        active = self.active
        if channel in self.channels and active is not None and not self._stop.is_set():
            active.enqueue_joins([channel])

    def _covered(self, channel: str) -> bool:
        return any(
            channel in session.joined for session in self.sessions if not session.ended.is_set()
        )

    def session_ended(self, session: IrcSession) -> None:
        if session in self.sessions:
            self.sessions.remove(session)
        if self.active is session:
            self.active = None
        reason = session.close_reason or "dropped"
        if not self._stop.is_set():
            for channel in session.joined:
                if channel in self.channels and not self._covered(channel):
                    self.shared.gaps.lost(channel, session.last_received_ms, reason)
        self._wake.set()
        if not session.welcome.is_set():
            return  # a failed login: `irc_connect_failed` is its log line
        lived = time.monotonic() - session.opened_at
        log.info(
            "irc_connection",
            connection=self.index,
            session=session.name,
            login=session.login,
            reason=reason,
            seconds=round(lived, 3),
            frames=session.frames,
            lines=session.lines,
            events=session.events,
            joins_sent=session.joins_sent,
            join_failures=session.join_failures,
            channels_max=session.max_joined,
            channels_left=len(session.joined),
        )

    # ------------------------------------------------------------------ supervision

    async def _supervise(self) -> None:
        shared = self.shared
        settings = shared.settings
        metrics = shared.metrics
        attempt = 0
        while not self._stop.is_set():
            await shared.pacer.wait()
            if self._stop.is_set():
                break
            self._numbers += 1
            session = IrcSession(self, self._numbers)
            self.sessions.append(session)
            try:
                await session.open()
            except IrcConnectError as exc:
                if session in self.sessions:
                    self.sessions.remove(session)
                auth = isinstance(exc, IrcAuthError)
                metrics.connection_attempts.labels("auth_failed" if auth else "failed").inc()
                delay = backoff_delay(
                    attempt, settings.backoff_min_s, settings.backoff_max_s, shared.rng
                )
                attempt += 1
                (log.error if auth else log.warning)(
                    "irc_connect_failed",
                    connection=self.index,
                    url=settings.twitch_irc_url,
                    reason=exc.reason,
                    detail=exc.detail,
                    attempt=attempt,
                    retry_in_s=round(delay, 2),
                )
                await self._sleep(delay)
                continue
            metrics.connection_attempts.labels("ok").inc()
            attempt = 0
            self.active = session
            for old in self.sessions:
                if old is not session:
                    old.superseded = True
                    old.drop_queued()
                    if not old.busy:
                        shared.spawn(old.close("retired"), f"irc-retire-{old.name}")
            session.enqueue_joins(sorted(self.channels))
            await session.attention.wait()
            if self._stop.is_set():
                break
            if session.superseded and not session.ended.is_set():
                metrics.reconnects.labels("reconnect_requested").inc()
                log.info("irc_reconnect_requested", session=session.name)
                continue  # open the replacement now; this one stays until it is emptied
            reason = session.close_reason or "dropped"
            metrics.reconnects.labels(reason).inc()
            await self._sleep(
                backoff_delay(0, settings.backoff_min_s, settings.backoff_max_s, shared.rng)
            )

    async def _sleep(self, delay: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                while not self._stop.is_set():
                    await self._wake.wait()
                    self._wake.clear()

    async def stop(self, timeout_s: float = STOP_PART_TIMEOUT_S) -> None:
        """PART everything, wait (bounded) for the confirmations, close every session."""
        self._stop.set()
        self._wake.set()
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
        sessions = list(self.sessions)
        for session in sessions:
            session.drop_queued()
            session.part(list(session.joined | set(session.pending)))
            if session.ended.is_set() or not session.busy:
                session.quiet.set()
            else:
                session.quiet.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*(s.quiet.wait() for s in sessions))
        for session in sessions:
            await session.close("stopping")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for session in sessions:
            session.abort()
