"""The ops HTTP server: liveness, readiness with detail, and Prometheus metrics."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client import CollectorRegistry, Counter

from twitch_archive.ops import serve_ops


async def _up() -> bool:
    return True


async def _down() -> bool:
    return False


async def _hangs() -> bool:
    await asyncio.sleep(10)
    return True


async def test_readyz_reports_each_dependency_and_metrics_are_served() -> None:
    """/healthz is 200, /readyz is 503 naming the failing or hanging check, /metrics exposes."""
    registry = CollectorRegistry()
    Counter("archive_test_things_total", "Things.", registry=registry).inc(3)
    checks = {"postgres": _up, "nats": _down, "redis": _hangs}
    async with serve_ops(registry, checks, "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{port}"
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
        async with http.get(f"{base}/readyz") as resp:
            assert resp.status == 503
            body = await resp.json()
        assert body == {
            "status": "not_ready",
            "checks": {"postgres": True, "nats": False, "redis": False},
        }
        async with http.get(f"{base}/metrics") as resp:
            assert "archive_test_things_total 3.0" in await resp.text()


async def test_readyz_is_ready_when_every_check_passes() -> None:
    """With every dependency answering /readyz says ready with status 200."""
    async with (
        serve_ops(CollectorRegistry(), {"postgres": _up}, "127.0.0.1", 0) as port,
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/readyz") as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["status"] == "ready"
