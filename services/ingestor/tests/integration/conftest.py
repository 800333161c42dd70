"""Fixtures of the ingestor's integration tests: a namespace per test, apps, stream readers."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import nats
import pytest
from nats.js import JetStreamContext

from archive_ingestor.app import IngestorApp
from archive_ingestor.settings import IngestorSettings
from twitch_archive import bus
from twitch_archive.bus import StreamSettings
from twitch_archive.codec import decode_event
from twitch_archive.events import ChatEvent
from twitch_archive.settings import load
from twitch_archive.simulator import SimulatorHandle, make_settings
from twitch_archive.subjects import Names

FAST: dict[str, str] = {
    "CONNECTION_PACING_S": "0.02",
    "JOIN_WINDOW_S": "1",
    "JOIN_TIMEOUT_S": "3",
    "BACKOFF_MIN_S": "0.05",
    "BACKOFF_MAX_S": "0.5",
    "HEARTBEAT_S": "0.2",
    "HEARTBEAT_TTL_S": "1.5",
    "HANDOVER_MAX_S": "10",
    "SHUTDOWN_TIMEOUT_S": "5",
    "PUBLISH_TIMEOUT_S": "2",
    "LOG_LEVEL": "warning",
    "STREAM_MAX_BYTES": str(256 * 1024**2),
}
"""Test timings: the defaults are tuned for Twitch, these for a test that ends in seconds."""


async def wait_for(
    check: Callable[[], bool | Awaitable[bool]], within_s: float, what: str, interval: float = 0.05
) -> float:
    """Poll `check` until it is true; returns the seconds it took, fails after `timeout`."""
    started = time.monotonic()
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > within_s:
            pytest.fail(f"timed out after {within_s} s waiting for {what}")
        await asyncio.sleep(interval)


TEST_STREAM = StreamSettings(max_bytes=256 * 1024**2, max_age_s=3600.0)
"""The shared server reserves a stream's max_bytes: test streams stay small."""


@pytest.fixture
def test_names(names: Names, nats_url: str) -> Iterator[Names]:
    """A namespace of this test alone (its own stream and buckets), deleted after the test."""
    scoped = Names(ns=f"{names.ns}i{secrets.token_hex(3)}.")
    yield scoped
    asyncio.run(delete_namespace(nats_url, scoped))


async def delete_namespace(nats_url: str, names: Names) -> None:
    """Delete the streams and KV buckets of one test's namespace."""
    nc = await nats.connect(nats_url)
    try:
        await bus.delete_namespace(nc, names)
    finally:
        await nc.close()


def ingestor_env(
    irc_url: str, nats_url: str, names: Names, channels: list[str], **env: Any
) -> dict[str, str]:
    """Environment of an ingestor for a test: fast timings, the test's namespace."""
    values = {
        **FAST,
        "TWITCH_IRC_URL": irc_url,
        "NATS_URL": nats_url,
        "NATS_NAMESPACE": names.ns,
        "CHANNELS": ",".join(channels),
    }
    values.update({key.upper(): str(value) for key, value in env.items()})
    return values


class AppFactory(Protocol):
    async def __call__(
        self, irc_url: str, channels: list[str] | None = None, **env: Any
    ) -> IngestorApp: ...


class SimulatorFactory(Protocol):
    async def __call__(self, **overrides: Any) -> SimulatorHandle: ...


@pytest.fixture
async def simulators() -> AsyncIterator[SimulatorFactory]:
    """Start simulated Twitch servers: `await simulators(channels=[...], rate=5)`; stopped after
    the ingestors (which depend on this fixture), so no ingestor outlives its server."""
    handles: list[SimulatorHandle] = []

    async def start(**overrides: Any) -> SimulatorHandle:
        handle = SimulatorHandle(make_settings(**overrides))
        handles.append(handle)
        await handle.start()
        return handle

    try:
        yield start
    finally:
        for handle in reversed(handles):
            await handle.stop()


@pytest.fixture
async def ingestors(
    nats_url: str, test_names: Names, simulators: SimulatorFactory, tcp_proxy: Any
) -> AsyncIterator[AppFactory]:
    """Start in-process ingestor replicas: `await ingestors(sim.irc_url, channels, **env)`;
    stopped before the simulators and proxies they use."""
    apps: list[IngestorApp] = []

    async def start(irc_url: str, channels: list[str] | None = None, **env: Any) -> IngestorApp:
        env.setdefault("nats_url", nats_url)
        values = ingestor_env(irc_url, env.pop("nats_url"), test_names, channels or [], **env)
        app = IngestorApp(
            load(IngestorSettings, values), names=test_names, stream_settings=TEST_STREAM
        )
        apps.append(app)
        await app.start()
        return app

    try:
        yield start
    finally:
        for app in reversed(apps):
            await app.stop()


class ProcessFactory(Protocol):
    def __call__(
        self, irc_url: str, channels: list[str], **env: Any
    ) -> subprocess.Popen[bytes]: ...


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def ingestor_processes(
    nats_url: str, test_names: Names, tmp_path: Path, simulators: SimulatorFactory
) -> AsyncIterator[ProcessFactory]:
    """Start ingestor replicas as processes (`python -m archive_ingestor`); SIGTERMed after,
    while the simulators still run (this fixture depends on them)."""
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[BinaryIO] = []

    def start(irc_url: str, channels: list[str], **env: Any) -> subprocess.Popen[bytes]:
        values = ingestor_env(
            irc_url, nats_url, test_names, channels, metrics_port=free_port(), **env
        )
        log = (tmp_path / f"ingestor-{len(procs)}.log").open("wb")
        logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "archive_ingestor"],
            env={**os.environ, **values},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(asyncio.to_thread(p.wait) for p in procs))
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


class Stream:
    """Reads the test's chat stream."""

    def __init__(self, js: JetStreamContext, names: Names) -> None:
        self.js = js
        self.names = names

    async def count(self) -> int:
        info = await self.js.stream_info(self.names.chat_stream)
        return int(info.state.messages)

    async def events(self) -> list[ChatEvent]:
        """Every event in the stream, in stream order."""
        total = await self.count()
        events: list[ChatEvent] = []
        if not total:
            return events
        sub = await self.js.subscribe(
            self.names.chat_wildcard(), ordered_consumer=True, stream=self.names.chat_stream
        )
        try:
            while len(events) < total:
                msg = await sub.next_msg(timeout=5)
                events.append(decode_event(msg.data))
        finally:
            await sub.unsubscribe()
        return events

    async def wait_for_ids(self, ids: set[str], within_s: float) -> list[ChatEvent]:
        """Wait until every id in `ids` is in the stream; returns the stream's events."""
        events: list[ChatEvent] = []

        async def arrived() -> bool:
            nonlocal events
            if await self.count() < len(ids):
                return False
            events = await self.events()
            return ids <= {event.id for event in events}

        await wait_for(arrived, within_s, f"{len(ids)} sent events in the stream", interval=0.25)
        return events


@pytest.fixture
def stream(js: JetStreamContext, test_names: Names) -> Stream:
    """The test's chat stream."""
    return Stream(js, test_names)


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., Awaitable[float]]:
    """`await wait_for(check, timeout, what)`: poll until true, fail after the timeout."""
    return wait_for


def metric(app: IngestorApp, name: str, **labels: str) -> float:
    """The current value of one of the app's metrics (0 when never set)."""
    value = app.registry.get_sample_value(name, labels or None)
    return 0.0 if value is None else value


@pytest.fixture(name="metric")
def metric_fixture() -> Callable[..., float]:
    """`metric(app, name, **labels)`: a metric's current value."""
    return metric
