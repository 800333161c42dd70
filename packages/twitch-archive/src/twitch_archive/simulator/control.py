"""The HTTP control surface under `/control/*` (JSON via msgspec), on the WebSocket server's app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
from aiohttp import web

from twitch_archive.simulator.api import (
    AllSentIds,
    DropRequest,
    ErrorBody,
    Health,
    InjectRequest,
    RateRequest,
    ReconnectRequest,
    ReplayRequest,
    Selected,
    SendRequest,
    SentIds,
)
from twitch_archive.simulator.server import Simulator

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_encoder = msgspec.json.Encoder()


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(body), status=status, content_type="application/json")


def _error(status: int, error: str, detail: str | None = None) -> web.HTTPException:
    cls = web.HTTPNotFound if status == 404 else web.HTTPBadRequest
    body = _encoder.encode(ErrorBody(error=error, detail=detail)).decode()
    return cls(text=body, content_type="application/json")


async def _read(request: web.Request, cls: type[T]) -> T:
    data = await request.read()
    try:
        return msgspec.json.decode(data or b"{}", type=cls)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise _error(400, "invalid request body", str(exc)) from exc


def add_control_routes(app: web.Application, sim: Simulator) -> None:
    """Register every `/control/*` route for `sim` (see docs/simulator.md)."""

    async def health(_: web.Request) -> web.Response:
        return _json(Health(status="ok", irc_url=sim.irc_url, seed=sim.seed))

    async def stats(_: web.Request) -> web.Response:
        return _json(sim.stats())

    async def connections(_: web.Request) -> web.Response:
        return _json({"connections": sim.connection_infos()})

    async def connection(request: web.Request) -> web.Response:
        detail = sim.connection_detail(request.match_info["conn_id"])
        if detail is None:
            raise _error(404, "no such connection", request.match_info["conn_id"])
        return _json(detail)

    async def reconnect(request: web.Request) -> web.Response:
        body = await _read(request, ReconnectRequest)
        return _json(Selected(connections=sim.reconnect(body.connections, body.grace_s)))

    async def drop(request: web.Request) -> web.Response:
        body = await _read(request, DropRequest)
        return _json(Selected(connections=await sim.drop(body.connections, body.channel)))

    async def inject(request: web.Request) -> web.Response:
        body = await _read(request, InjectRequest)
        result = sim.inject(body.lines, body.channel, body.connections)
        await sim.flush()
        return _json(result)

    async def send(request: web.Request) -> web.Response:
        body = await _read(request, SendRequest)
        try:
            result = sim.send(body)
        except ValueError as exc:
            raise _error(400, "cannot send", str(exc)) from exc
        await sim.flush()
        return _json(result)

    async def rate(request: web.Request) -> web.Response:
        body = await _read(request, RateRequest)
        try:
            sim.set_rate(body.rate, body.channel, body.paused)
        except ValueError as exc:
            raise _error(400, "invalid rate", str(exc)) from exc
        return _json(sim.stats())

    async def sent(request: web.Request) -> web.Response:
        channel = request.query.get("channel")
        await sim.flush()
        if channel is None:
            return _json(AllSentIds(channels=sim.all_sent_ids()))
        return _json(SentIds(channel=channel.lower().lstrip("#"), ids=sim.sent_ids(channel)))

    async def reset_sent(_: web.Request) -> web.Response:
        await sim.flush()
        sim.reset_sent()
        return _json({"status": "ok"})

    async def replay(request: web.Request) -> web.Response:
        body = await _read(request, ReplayRequest)
        try:
            started = sim.start_replay(body.file, body.channels, body.speed, body.loop)
        except (OSError, ValueError) as exc:
            raise _error(400, "cannot replay", str(exc)) from exc
        return _json({"file": str(started.path), "channels": started.channels})

    async def flush(_: web.Request) -> web.Response:
        await sim.flush()
        return _json({"status": "ok"})

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/control/health", health),
        ("GET", "/control/stats", stats),
        ("GET", "/control/connections", connections),
        ("GET", "/control/connections/{conn_id}", connection),
        ("POST", "/control/reconnect", reconnect),
        ("POST", "/control/drop", drop),
        ("POST", "/control/inject", inject),
        ("POST", "/control/send", send),
        ("POST", "/control/rate", rate),
        ("GET", "/control/sent", sent),
        ("POST", "/control/reset-sent", reset_sent),
        ("POST", "/control/replay", replay),
        ("POST", "/control/flush", flush),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
