"""Run the simulator in-process: `async with run_simulator(...) as sim:` for tests and demos."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from aiohttp import web

from twitch_archive.settings import CommaList, Secret
from twitch_archive.simulator.api import (
    ConnectionInfo,
    InjectResult,
    Selector,
    SendKind,
    SendRequest,
    SendResult,
    Stats,
)
from twitch_archive.simulator.control import add_control_routes
from twitch_archive.simulator.profile import Profile
from twitch_archive.simulator.replay import Replay
from twitch_archive.simulator.server import Simulator
from twitch_archive.simulator.settings import SimulatorSettings


def build_app(sim: Simulator) -> web.Application:
    """The aiohttp app: the IRC WebSocket at `/` and the control surface at `/control/*`."""
    app = web.Application()
    app.router.add_get("/", sim.handle_websocket)
    add_control_routes(app, sim)
    return app


class SimulatorHandle:
    """A running simulator: its URLs and the control surface as methods."""

    def __init__(self, settings: SimulatorSettings, profile: Profile | None = None) -> None:
        self.simulator = Simulator(settings, profile)
        self.settings = settings
        self._runner: web.AppRunner | None = None

    @property
    def irc_url(self) -> str:
        """`ws://HOST:PORT/`, what an ingestor uses as TWITCH_IRC_URL."""
        return self.simulator.irc_url

    @property
    def control_url(self) -> str:
        """`http://HOST:PORT/control`."""
        return self.simulator.control_url

    @property
    def port(self) -> int:
        return int(self.irc_url.rsplit(":", 1)[1].rstrip("/"))

    @property
    def seed(self) -> int:
        return self.simulator.seed

    async def start(self) -> None:
        """Bind (port 0 picks a free port) and start serving and generating."""
        runner = web.AppRunner(build_app(self.simulator), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        self.simulator.irc_url = f"ws://{host}:{port}/"
        self.simulator.control_url = f"http://{host}:{port}/control"
        self.simulator.start()

    async def stop(self) -> None:
        """Close every connection and stop serving."""
        await self.simulator.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ bookkeeping

    def sent_ids(self, channel: str) -> list[str]:
        """Ids of events written to at least one connection that had `channel` joined."""
        return self.simulator.sent_ids(channel)

    def all_sent_ids(self) -> dict[str, list[str]]:
        return self.simulator.all_sent_ids()

    def reset_sent(self) -> None:
        self.simulator.reset_sent()

    def stats(self) -> Stats:
        return self.simulator.stats()

    def connections(self) -> list[ConnectionInfo]:
        """Every connection, open or closed (until `reset_sent`)."""
        return self.simulator.connection_infos()

    def connection_ids_sent(self, conn_id: str) -> list[str]:
        """Event ids written to one connection, in order."""
        detail = self.simulator.connection_detail(conn_id)
        if detail is None:
            raise KeyError(conn_id)
        return detail.ids

    # ------------------------------------------------------------------ actions

    async def flush(self) -> None:
        """Wait until everything queued has been written."""
        await self.simulator.flush()

    async def reconnect(
        self, connections: Selector = "all", grace_s: float | None = None
    ) -> list[str]:
        """Send RECONNECT, close after `grace_s`; returns the connection ids."""
        ids = self.simulator.reconnect(connections, grace_s)
        await self.simulator.flush()
        return ids

    async def drop(self, connections: Selector = "all", channel: str | None = None) -> list[str]:
        """Cut connections abruptly; returns the connection ids."""
        return await self.simulator.drop(connections, channel)

    async def inject(
        self, lines: Sequence[str], channel: str | None = None, connections: Selector = "all"
    ) -> InjectResult:
        """Write raw lines as they are and wait until they are written."""
        result = self.simulator.inject(lines, channel, connections)
        await self.simulator.flush()
        return result

    async def send(self, channel: str, kind: SendKind = "message", **fields: Any) -> SendResult:
        """Make one event (fields as in SendRequest), send it, wait until it is written."""
        request = msgspec.convert({"channel": channel, "kind": kind, **fields}, SendRequest)
        result = self.simulator.send(request)
        await self.simulator.flush()
        return result

    def set_rate(
        self, rate: float | None = None, channel: str | None = None, paused: bool | None = None
    ) -> None:
        self.simulator.set_rate(rate, channel, paused)

    def pause(self) -> None:
        self.simulator.set_rate(paused=True)

    def resume(self) -> None:
        self.simulator.set_rate(paused=False)

    def replay(
        self, path: str, channels: Sequence[str], speed: str | float = "1", loop: bool = False
    ) -> Replay:
        """Start replaying a raw log onto channels now."""
        return self.simulator.start_replay(path, list(channels), speed, loop)


def make_settings(settings: SimulatorSettings | None = None, **overrides: Any) -> SimulatorSettings:
    """Settings for in-process use: port 0 unless given; lists and plain strings accepted."""
    base = settings if settings is not None else SimulatorSettings(port=0)
    for key in ("channels", "replay_channels"):
        value = overrides.get(key)
        if isinstance(value, str):
            overrides[key] = CommaList.parse(value)
        elif value is not None:
            overrides[key] = CommaList(value)
    tokens = overrides.get("oauth_tokens")
    if tokens is not None and not isinstance(tokens, Secret):
        overrides["oauth_tokens"] = Secret(tokens if isinstance(tokens, str) else ",".join(tokens))
    return msgspec.structs.replace(base, **overrides)


@asynccontextmanager
async def run_simulator(
    settings: SimulatorSettings | None = None, *, profile: Profile | None = None, **overrides: Any
) -> AsyncIterator[SimulatorHandle]:
    """Serve a simulator for the duration of the block; overrides are SimulatorSettings fields."""
    handle = SimulatorHandle(make_settings(settings, **overrides), profile)
    await handle.start()
    try:
        yield handle
    finally:
        await handle.stop()
