"""The simulated `wss://irc-ws.chat.twitch.tv`: Twitch's IRC dialect over aiohttp WebSockets.

One `Simulator` holds the connections, the channels they joined, the traffic pump and the
bookkeeping of which event ids went to which channel and connection. Lines reach a connection
through its outbox; one writer task per connection batches them into text frames of several
CRLF-terminated lines, as Twitch does, and records an event as sent once its frame is written.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import re
import secrets
import time
from collections import deque
from collections.abc import Coroutine, Iterable
from typing import Any, Final

import structlog
from aiohttp import WSMsgType, web

from twitch_archive.errors import IrcParseError
from twitch_archive.ids import HASH_PREFIX
from twitch_archive.irc import parse
from twitch_archive.simulator.api import (
    ConnectionDetail,
    ConnectionInfo,
    InjectResult,
    Selector,
    SendRequest,
    SendResult,
    Stats,
)
from twitch_archive.simulator.profile import Profile, load_profile
from twitch_archive.simulator.replay import Replay
from twitch_archive.simulator.settings import SimulatorSettings, parse_speed
from twitch_archive.simulator.traffic import (
    ChannelTraffic,
    TrafficGenerator,
    room_id,
    seeded,
    zipf_weights,
)

log = structlog.get_logger("twitch_archive.simulator")

SERVER: Final = "tmi.twitch.tv"
CAPABILITIES: Final = ("twitch.tv/tags", "twitch.tv/commands", "twitch.tv/membership")
CHANNEL_NAME = re.compile(r"[a-z0-9_]{1,25}")
ANONYMOUS_LOGIN = re.compile(r"justinfan\d+")
# Commands a client only receives with the twitch.tv/commands capability.
COMMANDS_CAP_ONLY = frozenset(
    {"USERNOTICE", "CLEARCHAT", "CLEARMSG", "ROOMSTATE", "USERSTATE", "GLOBALUSERSTATE",
     "RECONNECT", "HOSTTARGET", "WHISPER"}
)  # fmt: skip
NOTICE_BAD_AUTH: Final = f":{SERVER} NOTICE * :Login authentication failed"
NOTICE_BAD_FORMAT: Final = f":{SERVER} NOTICE * :Improperly formatted auth"
RECONNECT_LINE: Final = f":{SERVER} RECONNECT"
PING_LINE: Final = f"PING :{SERVER}"
MAX_BATCH = 2048
"""Events the pump generates before it lets the writers run."""
LAG_LIMIT_S = 1.0
"""A channel more than this far behind its schedule skips ahead instead of bursting."""
CLOSE_TIMEOUT_S = 5.0
DROP_FLUSH_S = 1.0
"""How long a drop waits for the frame being written before cutting the connection."""
_SENT_TS: Final = "tmi-sent-ts="
_CLOSE: Final = "\x00close"
"""Outbox sentinel: close the connection once everything queued before it is written."""

OutboxEntry = tuple[str, "ChannelState | None", "str | None"]
"""(line, channel it belongs to, event id): the id is recorded as sent once the line is written."""


class Connection:
    """One client WebSocket: its login, capabilities, channels, outbox and what it was sent."""

    def __init__(self, conn_id: str, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.id = conn_id
        self.ws = ws
        self.request = request
        self.login: str | None = None
        self.authenticated = False
        self.password: str | None = None
        self.caps: set[str] = set()
        self.channels: dict[str, ChannelState] = {}
        self.outbox: list[OutboxEntry] = []
        self.wake = asyncio.Event()
        self.seen: list[str] = []
        self.lines_sent = 0
        self.events_sent = 0
        self.frames_sent = 0
        self.joins_refused = 0
        self.connected_at = time.time()
        self.closed_at: float | None = None
        self.close_reason: str | None = None
        self.closing = False
        self.cut = False
        """Being dropped: the writer stops after the frame in flight."""
        self.pong_pending = False
        self.sending = False
        self.flush_waiters: list[asyncio.Future[None]] = []
        self.tasks: list[asyncio.Task[None]] = []

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def full_caps(self) -> bool:
        return "twitch.tv/tags" in self.caps and "twitch.tv/commands" in self.caps

    def queue(
        self, line: str, channel: ChannelState | None = None, event_id: str | None = None
    ) -> None:
        """Queue one line for the writer."""
        if self.closing:
            return
        self.outbox.append((line, channel, event_id))
        self.wake.set()

    async def flush(self) -> None:
        """Return once everything queued so far has been written (or the connection closed)."""
        if self.closed_at is not None or (not self.outbox and not self.sending):
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.flush_waiters.append(waiter)
        await waiter

    def info(self) -> ConnectionInfo:
        return ConnectionInfo(
            id=self.id,
            login=self.login,
            open=self.open,
            channels=list(self.channels),
            lines_sent=self.lines_sent,
            events_sent=self.events_sent,
            connected_at=self.connected_at,
            closed_at=self.closed_at,
            close_reason=self.close_reason,
        )

    def _release_waiters(self) -> None:
        waiters, self.flush_waiters = self.flush_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class ChannelState:
    """A channel: who joined it, which event ids went out to it, and its generated traffic."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.room_id = room_id(name)
        self.subscribers: dict[Connection, None] = {}
        self.sent: dict[str, None] = {}
        self.rank: int | None = None
        """Position among traffic channels (None: no generated traffic)."""
        self.rate_override: float | None = None
        self.rate = 0.0
        self.version = 0
        self.scheduled = False
        self.traffic: ChannelTraffic | None = None
        self.timing: random.Random | None = None


class JoinLimiter:
    """At most `limit` accepted JOINs per key in any sliding `window_s` (refusals don't count)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._joins: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float) -> bool:
        joins = self._joins.setdefault(key, deque())
        horizon = now - self.window_s
        while joins and joins[0] <= horizon:
            joins.popleft()
        if len(joins) >= self.limit:
            return False
        joins.append(now)
        return True


def split_client_line(line: str) -> tuple[str, list[str]]:
    """A client line as (COMMAND, params), leniently (clients are sloppier than Twitch)."""
    rest = line.strip(" ")
    if rest.startswith("@"):
        rest = rest.partition(" ")[2].lstrip(" ")
    if rest.startswith(":"):
        rest = rest.partition(" ")[2].lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    words = head.split()
    if not words:
        return "", []
    params = words[1:]
    if sep:
        params.append(trailing)
    elif rest.startswith(":") and not params:
        params = [rest[1:]]
    return words[0].upper(), params


def restamp(line: str, stamp: str) -> str:
    """`line` with its tmi-sent-ts tag replaced by `stamp` (`tmi-sent-ts=<ms>`), if it has one."""
    space = line.find(" ")
    if not line.startswith("@") or space < 0:
        return line
    start = line.find(_SENT_TS, 0, space)
    while start > 0 and line[start - 1] not in "@;":  # a longer key that ends the same way
        start = line.find(_SENT_TS, start + 1, space)
    if start < 0:
        return line
    end = line.find(";", start, space)
    return line[:start] + stamp + line[space if end < 0 else end :]


def _command_of(line: str) -> str:
    pos = 0
    if line.startswith("@"):
        pos = line.find(" ") + 1
    if line.startswith(":", pos):
        pos = line.find(" ", pos) + 1
    end = line.find(" ", pos)
    return line[pos:end] if end >= 0 else line[pos:]


def downgrade(line: str, tags: bool, commands: bool) -> str | None:
    """The line as a client without the tags/commands capability gets it, or None for none."""
    if not commands and _command_of(line) in COMMANDS_CAP_ONLY:
        return None
    if not tags and line.startswith("@"):
        return line[line.find(" ") + 1 :]
    return line


class Simulator:
    """State and behaviour of the simulated Twitch IRC server (the aiohttp app calls into it)."""

    def __init__(self, settings: SimulatorSettings, profile: Profile | None = None) -> None:
        self.settings = settings
        self.seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
        self.profile = profile if profile is not None else load_profile(settings.profile)
        self.generator = TrafficGenerator(self.profile, self.seed)
        self.tokens = settings.valid_tokens()
        self.speed = parse_speed(settings.speed)
        self.record = settings.record_sent
        self.base_rate = settings.rate
        self.skew = settings.skew
        self.paused = False
        self.channels: dict[str, ChannelState] = {}
        self.connections: dict[str, Connection] = {}
        self.limiter = JoinLimiter(settings.join_limit, settings.join_window_s)
        self.replays: list[Replay] = []
        self.irc_url = ""
        self.control_url = ""
        self.started = time.monotonic()
        self.joins = 0
        self.joins_refused = 0
        self.events_generated = 0
        self.lag_resets = 0
        self._forgotten = [0, 0, 0]  # lines, events, frames of connections reset_sent dropped
        self._rates_dirty = False
        self._ids = itertools.count(1)
        self._ranked: list[ChannelState] = []
        self._heap: list[tuple[float, int, ChannelState, int]] = []
        self._blocked: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pump_task: asyncio.Task[None] | None = None
        for name in settings.traffic_channels():
            self._rank(self.channel(name))
        self._apply_rates()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the traffic pump and the configured replay (inside the running loop)."""
        log.info(
            "simulator started",
            irc_url=self.irc_url,
            seed=self.seed,
            channels=len(self._ranked),
            rate=self.base_rate,
            skew=self.skew,
        )
        self._pump_task = asyncio.create_task(self._pump(), name="simulator-pump")
        self._pump_task.add_done_callback(_log_failure)
        if self.settings.replay_file:
            replay = Replay(
                self.settings.replay_file,
                list(self.settings.replay_targets()),
                self.speed,
                loop=self.settings.replay_loop,
            )
            self._spawn(self._run_replay(replay, wait_for_join=True), "simulator-replay")

    async def stop(self) -> None:
        """Stop generating, close every connection (1001 going away) and wait for the writers."""
        tasks = [t for t in (self._pump_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        conns = [c for c in self.connections.values() if c.open]
        for conn in conns:
            self._unsubscribe_all(conn)
        await asyncio.gather(
            *(self._close_ws(conn, "shutdown", code=1001) for conn in conns), return_exceptions=True
        )

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    # ------------------------------------------------------------------ channels and rates

    def channel(self, name: str) -> ChannelState:
        """The state of a channel, created on first use."""
        state = self.channels.get(name)
        if state is None:
            state = ChannelState(name)
            self.channels[name] = state
        return state

    def _rank(self, state: ChannelState) -> None:
        if state.rank is None:
            state.rank = len(self._ranked)
            self._ranked.append(state)

    def _apply_rates(self) -> None:
        count = len(self._ranked)
        if not count:
            return
        weights = zipf_weights(count, self.skew)
        total = sum(weights)
        for state, weight in zip(self._ranked, weights, strict=True):
            rate = state.rate_override
            if rate is None:
                rate = self.base_rate * count * weight / total
            if rate != state.rate:
                state.rate = rate
                state.version += 1
                state.scheduled = False
                self._schedule(state)

    def _schedule(self, state: ChannelState, at: float | None = None) -> None:
        if state.scheduled or state.rate <= 0 or not state.subscribers:
            return
        if state.traffic is None:
            state.traffic = self.generator.channel(state.name, state.rate)
            state.timing = seeded(f"{self.seed}:timing:{state.name}")
        assert state.timing is not None
        now = time.monotonic() if at is None else at
        first = now + state.timing.expovariate(state.rate)
        heapq.heappush(self._heap, (first, next(self._ids), state, state.version))
        state.scheduled = True

    def set_rate(
        self, rate: float | None = None, channel: str | None = None, paused: bool | None = None
    ) -> None:
        """Change the base rate, one channel's rate (it then ignores the skew), or pause."""
        if paused is not None:
            self.paused = paused
        if rate is not None:
            if rate < 0:
                raise ValueError("rate must be 0 or more")
            if channel is None:
                self.base_rate = rate
            else:
                state = self.channel(_channel_name(channel))
                self._rank(state)
                state.rate_override = rate
        self._apply_rates()
        log.info("rates changed", rate=rate, channel=channel, paused=self.paused)

    # ------------------------------------------------------------------ the pump

    async def _pump(self) -> None:
        heap = self._heap
        while True:
            if self._rates_dirty:
                self._rates_dirty = False
                self._apply_rates()
            now = time.monotonic()
            if self._blocked and not self._unblocked():
                await asyncio.sleep(0.002)
                continue
            produced = 0
            if not self.paused:
                now_ms = time.time_ns() // 1_000_000
                while heap and heap[0][0] <= now and produced < MAX_BATCH:
                    due, seq, state, version = heapq.heappop(heap)
                    if version != state.version:
                        continue  # superseded by a rate change
                    if not state.subscribers or state.rate <= 0:
                        state.scheduled = False  # rescheduled on the next JOIN or rate change
                        continue
                    traffic = state.traffic
                    timing = state.timing
                    assert traffic is not None
                    assert timing is not None
                    generated = traffic.next(now_ms)
                    self.publish_state(state, generated.line, generated.event.id)
                    produced += 1
                    nxt = due + timing.expovariate(state.rate)
                    if nxt < now - LAG_LIMIT_S:
                        nxt = now
                        self.lag_resets += 1
                    heapq.heappush(heap, (nxt, seq, state, version))
                self.events_generated += produced
            if produced >= MAX_BATCH:
                await asyncio.sleep(0)
                continue
            delay = 0.02
            if heap and not self.paused:
                delay = min(delay, max(heap[0][0] - time.monotonic(), 0.001))
            await asyncio.sleep(delay)

    def _unblocked(self) -> bool:
        low = self.settings.max_buffered_lines // 2
        for conn in list(self._blocked):
            if not conn.open or len(conn.outbox) <= low:
                self._blocked.discard(conn)
        return not self._blocked

    async def wait_writable(self) -> None:
        """Return once no connection has more than its bound queued (the `wait` policy)."""
        # Queues drain in the writer tasks; polling here keeps signalling off the hot path.
        while self._blocked and not self._unblocked():  # noqa: ASYNC110
            await asyncio.sleep(0.002)

    # ------------------------------------------------------------------ fan-out

    def publish(self, channel: str, line: str, event_id: str | None) -> int:
        """Queue a line to every connection that joined `channel`; returns how many."""
        state = self.channels.get(channel)
        if state is None:
            return 0
        return self.publish_state(state, line, event_id)

    def publish_state(self, state: ChannelState, line: str, event_id: str | None) -> int:
        subscribers = state.subscribers
        if not subscribers:
            return 0
        entry: OutboxEntry = (line, state, event_id)
        limit = self.settings.max_buffered_lines
        for conn in subscribers:
            outbox = conn.outbox
            outbox.append(entry)
            conn.wake.set()
            if len(outbox) > limit:
                self._over_limit(conn)
        return len(subscribers)

    def _over_limit(self, conn: Connection) -> None:
        if self.settings.slow_client == "wait":
            self._blocked.add(conn)
        elif not conn.closing:
            self._begin_close(conn, "slow consumer", drop_outbox=True)

    # ------------------------------------------------------------------ websocket

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """The IRC endpoint (`GET /` upgraded to a WebSocket)."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Connection(f"c{next(self._ids)}", ws, request)
        self.connections[conn.id] = conn
        log.debug("connection opened", connection=conn.id, peer=request.remote)
        writer = asyncio.create_task(self._write_loop(conn), name=f"writer-{conn.id}")
        conn.tasks.append(writer)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    for line in msg.data.split("\n"):
                        line = line.rstrip("\r")
                        if line:
                            self._handle_line(conn, line)
                elif msg.type == WSMsgType.ERROR:
                    break
        except ConnectionError:
            pass
        finally:
            self._finish(conn, conn.close_reason or "client closed")
        return ws

    def _finish(self, conn: Connection, reason: str) -> None:
        if conn.closed_at is not None:
            return
        self._unsubscribe_all(conn)
        conn.closing = True
        conn.closed_at = time.time()
        conn.close_reason = reason
        conn.outbox.clear()
        for task in conn.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        conn._release_waiters()
        self._blocked.discard(conn)
        log.info(
            "connection closed",
            connection=conn.id,
            login=conn.login,
            reason=reason,
            lines_sent=conn.lines_sent,
            events_sent=conn.events_sent,
            seconds=round(conn.closed_at - conn.connected_at, 3),
        )

    async def _write_loop(self, conn: Connection) -> None:
        ws = conn.ws
        frame_limit = self.settings.frame_bytes
        record = self.record
        stamp_on_write = self.settings.stamp_on_write
        try:
            while True:
                if not conn.outbox:
                    conn.sending = False
                    conn._release_waiters()
                    await conn.wake.wait()
                    conn.wake.clear()
                    continue
                conn.sending = True
                batch, conn.outbox = conn.outbox, []
                full = conn.full_caps
                tags = "twitch.tv/tags" in conn.caps
                commands = "twitch.tv/commands" in conn.caps
                i, n = 0, len(batch)
                while i < n and not conn.cut:
                    lines: list[str] = []
                    written: list[OutboxEntry] = []
                    size = 0
                    close_reason: str | None = None
                    while i < n:
                        entry = batch[i]
                        i += 1
                        line = entry[0]
                        if line is _CLOSE:
                            close_reason = entry[2] or "closed"
                            break
                        if not full:
                            downgraded = downgrade(line, tags, commands)
                            if downgraded is None:
                                continue
                            line = downgraded
                        lines.append(line)
                        written.append(entry)
                        size += len(line) + 2
                        if size >= frame_limit:
                            break
                    if lines:
                        if stamp_on_write:
                            _stamp(lines, written)
                        lines.append("")
                        await ws.send_str("\r\n".join(lines))
                        conn.frames_sent += 1
                        conn.lines_sent += len(written)
                        if record:
                            seen = conn.seen
                            for _line, state, event_id in written:
                                if event_id is not None and state is not None:
                                    state.sent[event_id] = None
                                    seen.append(event_id)
                                    conn.events_sent += 1
                        else:
                            conn.events_sent += sum(1 for e in written if e[2] is not None)
                    if close_reason is not None:
                        await self._close_ws(conn, close_reason)
                        return
        except (ConnectionError, RuntimeError) as exc:
            self._finish(conn, f"write failed: {exc.__class__.__name__}")
            await self._abort(conn)
        finally:
            conn.sending = False
            conn._release_waiters()

    async def _close_ws(self, conn: Connection, reason: str, code: int = 1000) -> None:
        self._finish(conn, reason)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await conn.ws.close(code=code, message=reason.encode()[:120])
        except (TimeoutError, ConnectionError, RuntimeError):
            await self._abort(conn)

    @staticmethod
    async def _abort(conn: Connection) -> None:
        transport = conn.request.transport
        if transport is not None and not transport.is_closing():
            transport.abort()

    def _begin_close(self, conn: Connection, reason: str, *, drop_outbox: bool = False) -> None:
        """Stop sending channel traffic, write what is queued (unless dropped), then close."""
        self._unsubscribe_all(conn)
        if drop_outbox:
            conn.outbox.clear()
        conn.outbox.append((_CLOSE, None, reason))
        conn.closing = True
        conn.wake.set()
        self._spawn(self._close_watchdog(conn), f"close-{conn.id}")

    async def _close_watchdog(self, conn: Connection) -> None:
        # A client that stops reading would keep a graceful close waiting forever.
        await asyncio.sleep(CLOSE_TIMEOUT_S * 2)
        if conn.open:
            self._finish(conn, conn.close_reason or "close timed out")
            await self._abort(conn)

    # ------------------------------------------------------------------ client commands

    def _handle_line(self, conn: Connection, line: str) -> None:
        command, params = split_client_line(line)
        if not command or conn.closing:
            return
        if command == "PONG":
            conn.pong_pending = False
        elif command == "PING":
            if params:
                conn.queue(f":{SERVER} PONG {SERVER} :{params[0]}")
            else:
                conn.queue(f"PONG :{SERVER}")
        elif command == "CAP":
            self._cap(conn, params)
        elif command == "PASS":
            conn.password = params[0] if params else ""
        elif command == "NICK":
            if conn.login is None:
                self._login(conn, params[0] if params else "")
        elif command in ("USER",):
            return
        elif command == "QUIT":
            self._begin_close(conn, "client quit")
        elif conn.login is None:
            return  # Before a successful NICK, other commands are ignored.
        elif command == "JOIN":
            self._join(conn, params[0] if params else "")
        elif command == "PART":
            self._part(conn, params[0] if params else "")
        elif command == "PRIVMSG":
            return  # Chatting is not simulated: anonymous users cannot, the rest is out of scope.
        else:
            conn.queue(f":{SERVER} 421 {conn.login} {command} :Unknown command")

    def _cap(self, conn: Connection, params: list[str]) -> None:
        sub = params[0].upper() if params else ""
        if sub == "LS":
            conn.queue(f":{SERVER} CAP * LS :{' '.join(CAPABILITIES)}")
        elif sub == "REQ":
            wanted = " ".join(params[1:]).split()
            if wanted and all(cap in CAPABILITIES for cap in wanted):
                conn.caps.update(wanted)
                conn.queue(f":{SERVER} CAP * ACK :{' '.join(wanted)}")
            else:
                conn.queue(f":{SERVER} CAP * NAK :{' '.join(wanted)}")

    def _login(self, conn: Connection, nick: str) -> None:
        nick = nick.lower()
        password = conn.password
        if ANONYMOUS_LOGIN.fullmatch(nick):
            conn.authenticated = False
        elif password is None or not password.startswith("oauth:") or not nick:
            conn.queue(NOTICE_BAD_FORMAT)
            self._begin_close(conn, "improperly formatted auth")
            return
        elif password.removeprefix("oauth:") not in self.tokens:
            conn.queue(NOTICE_BAD_AUTH)
            self._begin_close(conn, "login authentication failed")
            return
        else:
            conn.authenticated = True
        conn.login = nick
        for line in (
            f":{SERVER} 001 {nick} :Welcome, GLHF!",
            f":{SERVER} 002 {nick} :Your host is {SERVER}",
            f":{SERVER} 003 {nick} :This server is rather new",
            f":{SERVER} 004 {nick} :-",
            f":{SERVER} 375 {nick} :-",
            f":{SERVER} 372 {nick} :You are in a maze of twisty passages, all alike.",
            f":{SERVER} 376 {nick} :>",
        ):
            conn.queue(line)
        if conn.authenticated:
            uid = room_id(nick)
            conn.queue(
                f"@badge-info=;badges=;color=;display-name={nick};emote-sets=0;user-id={uid};"
                f"user-type= :{SERVER} GLOBALUSERSTATE"
            )
        conn.tasks.append(asyncio.create_task(self._keepalive(conn), name=f"ping-{conn.id}"))
        log.debug("logged in", connection=conn.id, login=nick, anonymous=not conn.authenticated)

    def _join(self, conn: Connection, param: str) -> None:
        assert conn.login is not None
        login = conn.login
        now = time.monotonic()
        for item in param.split(","):
            item = item.strip()
            if not item:
                continue
            name = item[1:] if item.startswith("#") else ""
            if not item.startswith("#") or not CHANNEL_NAME.fullmatch(name):
                conn.queue(
                    f"@msg-id=msg_channel_suspended :{SERVER} NOTICE {item} :This channel does "
                    "not exist or has been suspended."
                )
                continue
            if not self.limiter.allow(login, now):
                self.joins_refused += 1
                conn.joins_refused += 1
                if self.settings.join_limit_notice:
                    conn.queue(
                        f"@msg-id=msg_ratelimit :{SERVER} NOTICE #{name} :Your JOIN was not "
                        "processed because you are joining channels too quickly."
                    )
                continue
            self.joins += 1
            state = self.channel(name)
            conn.queue(f":{login}!{login}@{login}.{SERVER} JOIN #{name}")
            conn.queue(f":{login}.{SERVER} 353 {login} = #{name} :{login}")
            conn.queue(f":{login}.{SERVER} 366 {login} #{name} :End of /NAMES list")
            if conn.authenticated:
                conn.queue(
                    f"@badge-info=;badges=;color=;display-name={login};emote-sets=0;mod=0;"
                    f"subscriber=0;user-type= :{SERVER} USERSTATE #{name}"
                )
            conn.queue(
                f"@emote-only=0;followers-only=-1;r9k=0;room-id={state.room_id};slow=0;"
                f"subs-only=0 :{SERVER} ROOMSTATE #{name}"
            )
            self._subscribe(conn, state)

    def _subscribe(self, conn: Connection, state: ChannelState) -> None:
        if conn in state.subscribers:
            return
        state.subscribers[conn] = None
        conn.channels[state.name] = state
        if state.rank is None and self.settings.auto_traffic:
            self._rank(state)
            self._rates_dirty = True  # the pump recomputes the skewed rates, once per batch
        self._schedule(state)

    def _part(self, conn: Connection, param: str) -> None:
        login = conn.login
        for item in param.split(","):
            name = item.strip().removeprefix("#")
            state = conn.channels.get(name)
            if state is None:
                continue
            self._unsubscribe(conn, state)
            conn.queue(f":{login}!{login}@{login}.{SERVER} PART #{name}")

    def _unsubscribe(self, conn: Connection, state: ChannelState) -> None:
        state.subscribers.pop(conn, None)
        conn.channels.pop(state.name, None)

    def _unsubscribe_all(self, conn: Connection) -> None:
        for state in list(conn.channels.values()):
            self._unsubscribe(conn, state)

    async def _keepalive(self, conn: Connection) -> None:
        settings = self.settings
        while conn.open and not conn.closing:
            await asyncio.sleep(settings.ping_interval_s)
            conn.pong_pending = True
            conn.queue(PING_LINE)
            await asyncio.sleep(settings.pong_timeout_s)
            if conn.pong_pending and conn.open and not conn.closing:
                log.info("no PONG in time", connection=conn.id, login=conn.login)
                self._begin_close(conn, "ping timeout")
                return

    # ------------------------------------------------------------------ control actions

    def select(self, selector: Selector, channel: str | None = None) -> list[Connection]:
        """Open connections: all, the N oldest, or those with these ids (optionally by channel)."""
        conns = [c for c in self.connections.values() if c.open and not c.closing]
        if channel is not None:
            name = _channel_name(channel)
            conns = [c for c in conns if name in c.channels]
        if selector == "all":
            return conns
        if isinstance(selector, int):
            return conns[: max(selector, 0)]
        wanted = set(selector)
        return [c for c in conns if c.id in wanted]

    def reconnect(self, selector: Selector = "all", grace_s: float | None = None) -> list[str]:
        """Send RECONNECT, then close those connections after the grace period."""
        grace = self.settings.reconnect_grace_s if grace_s is None else grace_s
        conns = self.select(selector)
        for conn in conns:
            conn.queue(RECONNECT_LINE)
            self._spawn(self._close_later(conn, grace), f"reconnect-{conn.id}")
        log.info("reconnect requested", connections=[c.id for c in conns], grace_s=grace)
        return [c.id for c in conns]

    async def _close_later(self, conn: Connection, delay: float) -> None:
        await asyncio.sleep(delay)
        if conn.open and not conn.closing:
            self._begin_close(conn, "reconnect")

    async def drop(self, selector: Selector = "all", channel: str | None = None) -> list[str]:
        """Cut connections abruptly: no RECONNECT, no close frame, the TCP connection just ends.

        A frame being written is finished first (so what is recorded as sent is exactly what
        was written); lines still queued are discarded, and never recorded.
        """
        conns = self.select(selector, channel)
        for conn in conns:
            self._unsubscribe_all(conn)
            conn.outbox.clear()
            conn.closing = conn.cut = True
        try:
            async with asyncio.timeout(DROP_FLUSH_S):
                await asyncio.gather(*(conn.flush() for conn in conns))
        except TimeoutError:
            pass  # a client that stopped reading: cut it anyway
        for conn in conns:
            self._finish(conn, "dropped")
            transport = conn.request.transport
            if transport is not None:
                transport.close()
        log.info("connections dropped", connections=[c.id for c in conns], channel=channel)
        return [c.id for c in conns]

    def inject(
        self, lines: Iterable[str], channel: str | None = None, selector: Selector = "all"
    ) -> InjectResult:
        """Write raw lines as they are to a channel's connections (or to selected connections)."""
        if channel is not None:
            name = _channel_name(channel)
            state = self.channels.get(name)
            targets = list(state.subscribers) if state is not None else []
        else:
            targets = self.select(selector)
        ids: list[str | None] = []
        count = 0
        for line in lines:
            count += 1
            event_id: str | None = None
            event_state: ChannelState | None = None
            try:
                event = parse(line)
            except IrcParseError:
                event = None
            if event is not None:
                event_id = event.id
                event_state = self.channel(event.channel)
            ids.append(event_id)
            for conn in targets:
                conn.queue(line, event_state, event_id)
        return InjectResult(connections=len(targets), lines=count, event_ids=ids)

    def send(self, request: SendRequest) -> SendResult:
        """Make one event as asked and queue it to the channel's connections."""
        name = _channel_name(request.channel)
        if not CHANNEL_NAME.fullmatch(name):
            raise ValueError(f"not a valid channel name: {request.channel!r}")
        state = self.channel(name)
        traffic = state.traffic or self.generator.channel(name, max(state.rate, self.base_rate))
        state.traffic = traffic
        generated = traffic.make(request, time.time_ns() // 1_000_000)
        count = self.publish_state(state, generated.line, generated.event.id)
        return SendResult(event=generated.event, line=generated.line, connections=count)

    def start_replay(
        self, path: str, channels: list[str], speed: str | float = "1", loop: bool = False
    ) -> Replay:
        """Start replaying a log onto channels now; returns the running Replay."""
        replay = Replay(path, [_channel_name(c) for c in channels], parse_speed(speed), loop=loop)
        self._spawn(self._run_replay(replay, wait_for_join=False), "simulator-replay")
        return replay

    async def _run_replay(self, replay: Replay, *, wait_for_join: bool) -> None:
        self.replays.append(replay)
        try:
            if wait_for_join:
                # JOINs are rare next to lines: a slow poll beats an event per channel.
                while not any(self.channel(n).subscribers for n in replay.channels):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            log.info("replay started", file=str(replay.path), channels=replay.channels)
            await replay.run(self)
        finally:
            self.replays.remove(replay)

    async def flush(self) -> None:
        """Return once every open connection has written everything queued so far."""
        await asyncio.gather(*(c.flush() for c in self.connections.values() if c.open))

    # ------------------------------------------------------------------ bookkeeping

    def sent_ids(self, channel: str) -> list[str]:
        """Ids of the events written to at least one connection that had `channel` joined."""
        state = self.channels.get(_channel_name(channel))
        return list(state.sent) if state is not None else []

    def all_sent_ids(self) -> dict[str, list[str]]:
        return {name: list(state.sent) for name, state in self.channels.items() if state.sent}

    def reset_sent(self) -> None:
        """Forget what was sent, and forget closed connections."""
        for state in self.channels.values():
            state.sent = {}
        for conn_id, conn in list(self.connections.items()):
            if conn.open:
                conn.seen = []
            else:
                self._forgotten[0] += conn.lines_sent
                self._forgotten[1] += conn.events_sent
                self._forgotten[2] += conn.frames_sent
                del self.connections[conn_id]

    def connection_infos(self) -> list[ConnectionInfo]:
        return [conn.info() for conn in self.connections.values()]

    def connection_detail(self, conn_id: str) -> ConnectionDetail | None:
        conn = self.connections.get(conn_id)
        if conn is None:
            return None
        return ConnectionDetail(connection=conn.info(), ids=list(conn.seen))

    def stats(self) -> Stats:
        conns = list(self.connections.values())
        open_conns = [c for c in conns if c.open]
        return Stats(
            connections=len(open_conns),
            connections_total=len(conns),
            channels={c.id: list(c.channels) for c in open_conns},
            lines_sent=self._forgotten[0] + sum(c.lines_sent for c in conns),
            events_sent=self._forgotten[1] + sum(c.events_sent for c in conns),
            frames_sent=self._forgotten[2] + sum(c.frames_sent for c in conns),
            joins=self.joins,
            joins_refused=self.joins_refused,
            events_generated=self.events_generated,
            generator_lag_resets=self.lag_resets,
            paused=self.paused,
            rate=self.base_rate,
            rates={s.name: round(s.rate, 6) for s in self._ranked if s.subscribers and s.rate > 0},
            replays_running=len(self.replays),
            uptime_s=round(time.monotonic() - self.started, 3),
        )


def _stamp(lines: list[str], written: list[OutboxEntry]) -> None:
    """Stamp the lines of a frame about to be written with the current millisecond.

    Only lines whose event has a Twitch id: a mod action's id hashes its timestamp, so a new
    one would make it another event than the one recorded as sent.
    """
    stamp = f"{_SENT_TS}{time.time_ns() // 1_000_000}"
    for k, entry in enumerate(written):
        event_id = entry[2]
        if event_id is not None and not event_id.startswith(HASH_PREFIX):
            lines[k] = restamp(lines[k], stamp)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("simulator task failed", task=task.get_name(), exc_info=task.exception())


def _channel_name(value: str) -> str:
    return value.strip().removeprefix("#").lower()
