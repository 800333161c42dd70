"""/healthz (alive), /readyz (dependencies, with detail), /metrics (Prometheus)."""

from __future__ import annotations

import asyncio

from litestar import Controller, MediaType, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from archive_api.deps import Ctx
from archive_api.schemas import Health
from twitch_archive.db import ping


class HealthController(Controller):
    path = "/"
    tags = ("operations",)
    include_in_schema = False

    @get("/healthz", summary="The process is alive")
    async def healthz(self) -> Health:
        return Health(status="ok", checks={})

    @get(
        "/readyz",
        summary="Dependencies answer",
        description="503 when PostgreSQL does not answer; 200 `degraded` when only Redis (the "
        "api then fails open: no rate limit, no cache) or NATS (channel management) is down.",
    )
    async def readyz(self, ctx: Ctx) -> Response[Health]:
        pools = list(ctx.pools().values())
        postgres, redis = await asyncio.gather(
            ping(pools[0].raw, timeout=1.0) if pools else _false(), ctx.redis.ping()
        )
        checks = {
            "postgres": "ok" if postgres else "down",
            "redis": "ok" if redis else "down (failing open: no rate limit, no cache)",
            "nats": "ok" if ctx.desired.connected else "down (channel management unavailable)",
        }
        if not postgres:
            return Response(Health(status="unavailable", checks=checks), status_code=503)
        degraded = not redis or not ctx.desired.connected
        return Response(Health(status="degraded" if degraded else "ok", checks=checks))

    @get("/metrics", summary="Prometheus metrics", media_type=MediaType.TEXT)
    async def metrics(self, ctx: Ctx) -> Response[bytes]:
        for plans, pool in ctx.pools().items():
            ctx.metrics.db_pool_size.labels(plans).set(pool.raw.get_size())
            ctx.metrics.db_pool_idle.labels(plans).set(pool.raw.get_idle_size())
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def _false() -> bool:
    return False
