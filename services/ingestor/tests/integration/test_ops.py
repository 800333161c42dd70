"""The process: /healthz, /readyz and /metrics served, and a clean stop on request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp

from archive_ingestor.app import IngestorApp
from archive_ingestor.settings import IngestorSettings
from twitch_archive.lifecycle import Shutdown
from twitch_archive.settings import load


async def test_ops_endpoints_report_readiness_and_metrics(
    simulators, nats_url: str, test_names, wait_for: Callable[..., Awaitable[float]]
) -> None:
    """/readyz turns ready once an IRC connection is up, /metrics has the ingestor's names."""
    sim = await simulators(rate=0, join_window_s=1.0)
    port_env = {"METRICS_PORT": "0", "METRICS_HOST": "127.0.0.1"}
    settings = load(
        IngestorSettings,
        {
            "TWITCH_IRC_URL": sim.irc_url,
            "NATS_URL": nats_url,
            "CHANNELS": "ops_channel",
            "JOIN_WINDOW_S": "1",
            "STREAM_MAX_BYTES": str(64 * 1024**2),
            "SHUTDOWN_TIMEOUT_S": "5",
            **port_env,
        },
    )
    app = IngestorApp(settings, names=test_names)
    shutdown = Shutdown()
    run = asyncio.create_task(app.run(shutdown))
    try:
        await wait_for(lambda: app.pool is not None and app.pool.joined_count() == 1, 10, "joined")
        port = app.ops_port
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{port}"
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 200
                assert (await response.json())["checks"] == {"nats": True, "irc": True}
            async with http.get(f"{base}/metrics") as response:
                body = await response.text()
            assert "archive_ingestor_channels_joined 1.0" in body
            assert 'archive_ingestor_connection_attempts_total{result="ok"} 1.0' in body
    finally:
        shutdown.request()
        await asyncio.wait_for(run, 10)
    assert app.nc is not None
    assert app.nc.is_closed
