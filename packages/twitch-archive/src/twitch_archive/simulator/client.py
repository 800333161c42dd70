"""A small IRC-over-WebSocket client for tests and demos of the simulator (not the ingestor)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import aiohttp

CAPS_REQUEST = "CAP REQ :twitch.tv/tags twitch.tv/commands twitch.tv/membership"


class IrcTestClient:
    """Reads Twitch's multi-line text frames as single lines; every wait has a timeout."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._lines: deque[str] = deque()
        self.closed = False
        self.close_code: int | None = None
        self.frames = 0

    @classmethod
    async def open(
        cls,
        session: aiohttp.ClientSession,
        url: str,
        *,
        nick: str | None = "justinfan12345",
        password: str | None = "SCHMOOPIIE",  # noqa: S107 - the anonymous convention
        caps: bool = True,
        join: tuple[str, ...] = (),
    ) -> IrcTestClient:
        """Connect, request the capabilities, log in and join, all in one frame."""
        ws = await session.ws_connect(url, max_msg_size=0, autoping=True)
        client = cls(ws)
        lines = [CAPS_REQUEST] if caps else []
        if password is not None:
            lines.append(f"PASS {password}")
        if nick is not None:
            lines.append(f"NICK {nick}")
        if join:
            lines.append("JOIN " + ",".join(f"#{c}" for c in join))
        if lines:
            await client.send(*lines)
        return client

    async def send(self, *lines: str) -> None:
        """Send lines in one text frame, each ended by CRLF."""
        await self.ws.send_str("".join(f"{line}\r\n" for line in lines))

    async def line(self, within: float = 2.0) -> str:
        """The next line; raises TimeoutError, or ConnectionError once the server closed."""
        deadline = time.monotonic() + within
        while not self._lines:
            if self.closed:
                raise ConnectionError(f"closed by the server (code {self.close_code})")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no line in time")
            try:
                msg = await self.ws.receive(timeout=remaining)
            except TimeoutError:
                raise TimeoutError("no line in time") from None
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames += 1
                self._lines.extend(part for part in msg.data.split("\r\n") if part)
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                self.closed = True
                self.close_code = self.ws.close_code
        return self._lines.popleft()

    async def expect(self, match: str | Callable[[str], bool], within: float = 2.0) -> str:
        """Skip lines until one contains `match` (or satisfies it); returns that line."""
        deadline = time.monotonic() + within
        test = match if callable(match) else (lambda line: match in line)
        while True:
            line = await self.line(max(deadline - time.monotonic(), 0.001))
            if test(line):
                return line

    async def collect(self, seconds: float) -> list[str]:
        """Every line that arrives within `seconds` (stops early if the server closes)."""
        deadline = time.monotonic() + seconds
        lines: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return lines
            try:
                lines.append(await self.line(remaining))
            except (TimeoutError, ConnectionError):
                return lines

    async def wait_closed(self, within: float = 5.0) -> list[str]:
        """Read until the server closes the connection; returns the lines read meanwhile."""
        deadline = time.monotonic() + within
        lines: list[str] = []
        while True:
            try:
                lines.append(await self.line(max(deadline - time.monotonic(), 0.001)))
            except ConnectionError:
                return lines

    async def close(self) -> None:
        await self.ws.close()
