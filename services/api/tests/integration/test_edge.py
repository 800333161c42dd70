"""Rate limits shared through Redis, failing open, health, metrics, OpenAPI, CORS, logs."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest
from structlog.testing import capture_logs

from twitch_archive.testing.proxy import TcpProxy


async def test_rate_limit_is_shared_by_two_replicas(seed, make_settings, make_client):
    """Two app instances on one Redis share each client's budget: the sixth request is 429."""
    settings = make_settings(rate_limit_per_minute=5)
    async with make_client(settings) as one, make_client(settings) as two:
        statuses = []
        for client in (one, two, one, two, one):
            response = await client.get("/api/channels")
            statuses.append(response.status_code)
            assert int(response.headers["x-ratelimit-limit"]) == 5
        assert statuses == [200] * 5
        assert response.headers["x-ratelimit-remaining"] == "0"
        refused = await two.get("/api/channels")
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert 1 <= int(refused.headers["x-ratelimit-reset"]) <= 60
        health = await one.get("/healthz")
        assert health.status_code == 200  # operations endpoints are never limited
        metrics = (await two.get("/metrics")).text
    assert "archive_api_rate_limited_total 1.0" in metrics


async def test_redis_down_fails_open(seed, make_settings, make_client):
    """With Redis unreachable the api still answers, unlimited and uncached, and says so."""
    settings = make_settings(
        redis_url="redis://127.0.0.1:1/0", rate_limit_per_minute=1, cache_ttl_s=30
    )
    async with make_client(settings) as client:
        for _ in range(3):
            assert (await client.get("/api/channels")).status_code == 200
        assert (await client.get("/api/stats")).status_code == 200
        ready = await client.get("/readyz")
        metrics = (await client.get("/metrics")).text
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["redis"].startswith("down")
    assert "archive_api_redis_up 0.0" in metrics
    assert re.search(r'archive_api_redis_errors_total\{operation="ratelimit"\} [1-9]', metrics)
    assert 'archive_api_cache_requests_total{result="bypass"}' in metrics


async def test_stats_are_cached_in_redis(seed, make_settings, make_client, redis, sql):
    """An aggregate is stored in Redis and served from there until its TTL ends."""
    settings = make_settings(cache_ttl_s=60)
    async with make_client(settings) as client:
        first = (await client.get("/api/channels")).json()
        await sql("UPDATE channel_hourly_stats SET messages = messages + 1000")
        second = (await client.get("/api/channels")).json()
        metrics = (await client.get("/metrics")).text
    assert first == second
    assert await redis.exists(f"{settings.redis_prefix}cache:channel_totals")
    assert 'archive_api_cache_requests_total{result="hit"} 1.0' in metrics


async def test_user_stats_are_cached_like_the_other_aggregates(seed, make_settings, make_client):
    """A user's stats come from the cache until its TTL ends, under the user's id."""
    settings = make_settings(cache_ttl_s=60)
    async with make_client(settings) as client:
        first = (await client.get("/api/users/viewer_one/stats")).json()
        second = (await client.get("/api/users/viewer_one/stats")).json()
        metrics = (await client.get("/metrics")).text
    assert first == second
    assert first["timeouts"] == 2
    assert 'archive_api_cache_requests_total{result="hit"} 1.0' in metrics


async def test_health_and_readiness(client):
    """/healthz answers alive, /readyz lists each dependency."""
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    ready = (await client.get("/readyz")).json()
    assert ready["checks"]["postgres"] == "ok"
    assert ready["checks"]["redis"] == "ok"


class ThreadedProxy:
    """A TcpProxy on its own event loop thread: the test client runs the app on another
    loop and blocks the test's loop while it waits, so the proxy cannot live on either."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = TcpProxy.for_url(url)
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(10)

    def cut(self) -> None:
        self.loop.call_soon_threadsafe(self.proxy.cut)
        time.sleep(0.1)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


async def test_database_down_makes_readyz_503(seed, make_settings, make_client, pg_url):
    """When PostgreSQL stops answering, /readyz is 503 and queries answer 503, never 500."""
    proxy = ThreadedProxy(pg_url)
    try:
        settings = make_settings(database_url=proxy.proxy.url_for(pg_url))
        async with make_client(settings) as client:
            assert (await client.get("/api/channels")).status_code == 200
            proxy.cut()
            ready = await client.get("/readyz")
            failed = await client.get("/api/messages")
    finally:
        proxy.close()
    assert ready.status_code == 503
    assert ready.json()["checks"]["postgres"] == "down"
    assert failed.status_code == 503
    assert failed.json()["error"] == "unavailable"


async def test_metrics_have_latency_histograms_per_route_template(client):
    """Latency is observed per route template, not per concrete path."""
    await client.get("/api/users/viewer_one")
    await client.get("/api/users/viewer_two")
    await client.get("/no/such/path")
    text = (await client.get("/metrics")).text
    assert (
        'archive_api_request_duration_seconds_count{method="GET",'
        'route="/api/users/{username}",status="200"} 2.0'
    ) in text
    assert 'route="unmatched",status="404"' in text


async def test_one_log_line_per_request(client):
    """Each request writes one `request_handled` line with route, status and duration."""
    with capture_logs() as logs:
        await client.get("/api/channels/alpha")
    lines = [entry for entry in logs if entry["event"] == "request_handled"]
    assert len(lines) == 1
    assert lines[0]["route"] == "/api/channels/{name}"
    assert lines[0]["status"] == 200
    assert lines[0]["duration_ms"] >= 0


async def test_openapi_schema_and_docs_are_served(client):
    """The OpenAPI schema lists every endpoint; Swagger and ReDoc pages are served."""
    schema = (await client.get("/api/schema/openapi.json")).json()
    paths = set(schema["paths"])
    for path in (
        "/api/messages", "/api/messages/search", "/api/messages/{message_id}",
        "/api/messages/{message_id}/context", "/api/users", "/api/users/{username}",
        "/api/users/{username}/messages", "/api/users/{username}/mod-actions",
        "/api/users/{username}/stats", "/api/users/{username}/names", "/api/mod-actions",
        "/api/mod-actions/recent", "/api/mod-actions/stats", "/api/channels",
        "/api/channels/{name}", "/api/channels/{name}/stats", "/api/channels/{name}/gaps",
        "/api/channels/{name}/rejoin", "/api/stats",
    ):  # fmt: skip
        assert path in paths, path
    assert "bearer" in schema["components"]["securitySchemes"]
    for page in ("/api/schema/swagger", "/api/schema/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]


async def test_cors_allows_configured_origins(seed, make_settings, make_client):
    """CORS_ORIGINS answers preflights and tags responses for the configured origin only."""
    settings = make_settings(cors_origins=("http://dash.example",))
    async with make_client(settings) as client:
        preflight = await client.options(
            "/api/channels",
            headers={
                "Origin": "http://dash.example",
                "Access-Control-Request-Method": "GET",
            },
        )
        allowed = await client.get("/api/channels", headers={"Origin": "http://dash.example"})
        other = await client.get("/api/channels", headers={"Origin": "http://evil.example"})
    assert preflight.status_code in (200, 204)
    assert allowed.headers["access-control-allow-origin"] == "http://dash.example"
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("PUT", "/api/messages", 405, id="wrong-method"),
        pytest.param("GET", "/api/nothing-here", 404, id="unknown-path"),
    ],
)
async def test_unknown_routes_answer_json_errors(client, method, path, status):
    """404 and 405 come in the same {error, detail} shape."""
    response = await client.request(method, path)
    assert response.status_code == status
    assert set(response.json()) == {"error", "detail"}
