"""The composition root: `create_app(settings)` builds the Litestar app; `run` serves it.

Nothing happens at import time. `create_app` builds the objects that need no I/O (metrics,
Redis client, caches, the NATS link); the lifespan opens the PostgreSQL pools and starts the NATS
connection, and closes everything in reverse order on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import asyncpg
import structlog
import uvicorn
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from archive_api.cache import Cache, Memo, RedisGuard
from archive_api.deps import Context, FairPool, provide_context
from archive_api.desired import DesiredSet
from archive_api.errors import exception_handlers
from archive_api.metrics import ApiMetrics
from archive_api.ratelimit import RateLimiter, RateLimitMiddleware, client_ip
from archive_api.routes.admin import ADMIN_HANDLERS
from archive_api.routes.channels import ChannelController
from archive_api.routes.config import ConfigController
from archive_api.routes.health import HealthController
from archive_api.routes.messages import MessageController
from archive_api.routes.moderation import ModerationController
from archive_api.routes.stats import StatsController
from archive_api.routes.usernotices import UserNoticeController
from archive_api.routes.users import UserController
from archive_api.routes.web import web_router
from archive_api.settings import ApiSettings
from twitch_archive.db import init_connection
from twitch_archive.subjects import Names

log = structlog.get_logger("archive_api")
access = structlog.get_logger("archive_api.access")

API_VERSION = "1.0.0"


class Edge:
    """The outermost ASGI layer: one log line and one latency observation per request,
    labelled by route template (404s and 405s included, as `unmatched`)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]  # lifespan scopes too
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        size = 0

        async def observe(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        self.metrics.requests_in_flight.inc()
        try:
            await self.app(scope, receive, observe)
        finally:
            self.metrics.requests_in_flight.dec()
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope.get("method", "")
            self.metrics.request_duration.labels(method, route, str(status)).observe(elapsed)
            access.info(
                "request_handled",
                method=method,
                path=scope.get("path", ""),
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                bytes=size,
                client=client_ip(scope),
            )


async def _keep_session(_: Any) -> None:
    """Pool `reset`: nothing to undo. The api never changes session state outside a
    transaction (exports use SET LOCAL), so the default reset (a round trip per release:
    RESET ALL, UNLISTEN *, ...) would only cost time; open transactions are still rolled back."""


PlanMode = Literal["custom", "generic"]


def pool_size(settings: ApiSettings, plans: PlanMode) -> int:
    """DB_POOL_MAX split between the two pools (the generic one gets the smaller half): a
    replica never holds more than DB_POOL_MAX connections, whatever its traffic."""
    generic = max(1, settings.db_pool_max // 2)
    return generic if plans == "generic" else max(1, settings.db_pool_max - generic)


async def open_pool(settings: ApiSettings, plans: PlanMode) -> asyncpg.Pool[asyncpg.Record]:
    """One of the api's two pools: `twitch_archive.db`'s codecs, a statement timeout, no
    per-release reset round trip, and how prepared statements are planned.

    `custom` plans every execution for its values: search and aggregates, whose best plan
    depends on the words or the time range asked for. `generic` keeps one plan per prepared
    statement: the keyset pages of messages, whose plan depends only on which filters are
    present, and whose planning over a year of monthly partitions (about 0.45 ms) costs three
    times their execution (docs/performance.md).
    """
    size = pool_size(settings, plans)
    pool: asyncpg.Pool[asyncpg.Record] = await asyncpg.create_pool(
        settings.database_url,
        min_size=min(settings.db_pool_min, size),
        max_size=size,
        command_timeout=settings.statement_timeout_ms / 1000 + 5,
        server_settings={
            "application_name": f"archive-api-{plans}",
            "plan_cache_mode": f"force_{plans}_plan",
            "statement_timeout": str(settings.statement_timeout_ms),
        },
        init=init_connection,
        reset=_keep_session,
    )
    return pool


def build_context(settings: ApiSettings, registry: CollectorRegistry | None = None) -> Context:
    """The objects handlers share (no I/O yet)."""
    metrics = ApiMetrics(registry or CollectorRegistry())
    redis_client = Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        retry_on_timeout=False,
    )
    guard = RedisGuard(
        redis_client, metrics, timeout_s=settings.redis_timeout_s, retry_s=settings.redis_retry_s
    )
    return Context(
        settings=settings,
        metrics=metrics,
        redis=guard,
        cache=Cache(guard, settings.redis_prefix, settings.cache_ttl_s, metrics),
        limiter=RateLimiter(guard, settings.redis_prefix, settings.rate_limit_per_minute, metrics),
        desired=DesiredSet(
            settings.nats_url,
            Names(ns=settings.nats_namespace),
            metrics,
            replicas=settings.nats_replicas,
        ),
        exports=asyncio.Semaphore(max(1, pool_size(settings, "custom") // 2)),
        counts=Memo(settings.cache_ttl_s),
    )


def create_app(settings: ApiSettings, *, registry: CollectorRegistry | None = None) -> Litestar:
    """The api as a Litestar app; resources open in its lifespan."""
    ctx = build_context(settings, registry)

    @contextlib.asynccontextmanager
    async def resources(app: Litestar) -> AsyncIterator[None]:
        pool = await open_pool(settings, "custom")
        pages = await open_pool(settings, "generic")
        ctx.pool, ctx.pages = FairPool(pool), FairPool(pages)
        ctx.desired.start(pool)
        log.info("api_started", port=settings.api_port, redis=settings.redis_url.split("@")[-1])
        try:
            yield
        finally:
            await ctx.desired.close()
            with contextlib.suppress(Exception):
                await ctx.redis.client.aclose()
            ctx.pool = ctx.pages = None
            await asyncio.gather(pool.close(), pages.close())
            log.info("api_stopped")

    handlers: list[Any] = [
        HealthController,
        MessageController,
        UserController,
        ModerationController,
        UserNoticeController,
        ChannelController,
        *ADMIN_HANDLERS,
        StatsController,
        ConfigController,
    ]
    dist = Path(settings.web_dist) if settings.web_dist else None
    if dist is not None and (dist / "index.html").is_file():
        handlers.append(web_router(dist))
    cors = (
        CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=[
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "Retry-After",
            ],
        )
        if settings.cors_origins
        else None
    )
    middleware = []
    if settings.rate_limit_per_minute > 0:
        middleware.append(DefineMiddleware(RateLimitMiddleware, limiter=ctx.limiter))
    app = Litestar(
        route_handlers=handlers,
        dependencies={"ctx": Provide(provide_context, sync_to_thread=False)},
        exception_handlers=exception_handlers(),
        middleware=middleware,
        cors_config=cors,
        lifespan=[resources],
        openapi_config=OpenAPIConfig(
            title="Twitch chat archive API",
            version=API_VERSION,
            description="Every chat message and moderation action of the archived channels. "
            "See docs/api.md for pagination, totals, search, exports, auth and rate limits.",
            path="/api/schema",
            render_plugins=[SwaggerRenderPlugin(path="/swagger"), RedocRenderPlugin(path="/redoc")],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", description="ADMIN_TOKEN"
                    )
                }
            ),
        ),
        logging_config=None,
        debug=False,
    )
    app.state.ctx = ctx
    app.asgi_handler = Edge(app.asgi_handler, ctx.metrics)
    return app


async def run(settings: ApiSettings) -> int:
    """Serve until SIGTERM/SIGINT (uvicorn handles the signals and drains connections)."""
    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        lifespan="on",
        loop="none",
        http="httptools",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    await server.serve()
    return 0 if server.started else 1
