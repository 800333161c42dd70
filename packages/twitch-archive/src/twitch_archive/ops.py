"""A tiny HTTP server for services without one of their own: /metrics, /healthz, /readyz."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Check = Callable[[], Awaitable[bool]]
"""A readiness probe: True when the dependency answers."""

CHECK_TIMEOUT_S = 1.0


async def run_checks(checks: Mapping[str, Check]) -> dict[str, bool]:
    """Run every readiness probe concurrently, each bounded by a short timeout."""

    async def one(check: Check) -> bool:
        try:
            return await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a probe that fails in any way means "not ready"
            return False

    names = list(checks)
    results = await asyncio.gather(*(one(checks[name]) for name in names))
    return dict(zip(names, results, strict=True))


def create_ops_app(registry: CollectorRegistry, checks: Mapping[str, Check]) -> web.Application:
    """The ops app: liveness, readiness with per-dependency detail, and Prometheus metrics."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, dumps=lambda o: msgspec.json.encode(o).decode())

    async def readyz(_: web.Request) -> web.Response:
        results = await run_checks(checks)
        ready = all(results.values())
        body = {"status": "ready" if ready else "not_ready", "checks": results}
        return web.Response(
            body=msgspec.json.encode(body),
            status=200 if ready else 503,
            content_type="application/json",
        )

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


@asynccontextmanager
async def serve_ops(
    registry: CollectorRegistry, checks: Mapping[str, Check], host: str, port: int
) -> AsyncIterator[int]:
    """Serve the ops app for the duration of the block; yields the bound port (0 picks one)."""
    runner = web.AppRunner(create_ops_app(registry, checks), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    try:
        yield int(bound)
    finally:
        await runner.cleanup()
