"""Fixtures of the writer's integration tests: a namespace per test, events, a writer to run."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import aiohttp
import asyncpg
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from archive_writer.app import WriterApp
from archive_writer.settings import WriterSettings
from twitch_archive.bus import ensure_streams, event_subject
from twitch_archive.codec import encode_event
from twitch_archive.events import ChatEvent, Emote, Message, ModAction, UserNotice
from twitch_archive.lifecycle import Shutdown
from twitch_archive.subjects import HEADER_MSG_ID, Names

WAIT_S = 30.0
BASE_TS = int(time.time() * 1000) - 60_000
"""Event times a minute ago: this month's partition exists (or the writer makes it)."""


async def wait_until(
    check: Callable[[], Awaitable[bool]], within: float = WAIT_S, what: str = "condition"
) -> None:
    """Poll `check` every 20 ms until it is true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


class Events:
    """Builds realistic events with unique ids, a channel and users of the test's own."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.channel = f"chan_{token}"
        self.room = str(70_000_000 + int(token, 16) % 10_000_000)
        self._serial = itertools.count(1)

    def _id(self) -> str:
        return f"{self.token}-{next(self._serial):08d}"

    def message(self, i: int = 0, **fields: Any) -> Message:
        user = i % 37
        values: dict[str, Any] = {
            "id": self._id(),
            "channel": self.channel,
            "channel_id": self.room,
            "ts": BASE_TS + i,
            "user_id": str(900_000 + user),
            "user_login": f"viewer{user}",
            "display_name": f"Viewer{user}",
            "text": f"hello number {i} Kappa",
            "emotes": (
                Emote(id="25", start=len(f"hello number {i} "), end=len(f"hello number {i} ") + 4),
            ),
        }
        values["message_id"] = values["id"]
        values.update(fields)
        return Message(**values)

    def messages(self, count: int) -> list[Message]:
        return [self.message(i) for i in range(count)]

    def notice(self, i: int = 0, **fields: Any) -> UserNotice:
        values: dict[str, Any] = {
            "id": self._id(),
            "channel": self.channel,
            "channel_id": self.room,
            "ts": BASE_TS + i,
            "notice_type": "resub",
            "user_id": "900001",
            "user_login": "viewer1",
            "display_name": "Viewer1",
            "system_msg": "Viewer1 subscribed for 14 months!",
            "params": {"cumulative-months": "14", "sub-plan": "1000"},
        }
        values.update(fields)
        return UserNotice(**values)

    def action(self, action: str, i: int = 0, **fields: Any) -> ModAction:
        values: dict[str, Any] = {
            "id": self._id(),
            "channel": self.channel,
            "channel_id": self.room,
            "ts": BASE_TS + i,
            "action": action,
        }
        values.update(fields)
        return ModAction(**values)

    def mixed(self, count: int) -> list[ChatEvent]:
        """Mostly messages, some notices, bans, timeouts and deletions of earlier messages."""
        out: list[ChatEvent] = []
        recent: list[str] = []
        for i in range(count):
            if i % 50 == 7 and recent:
                out.append(self.action("delete", i, target_message_id=recent[-3], message_text="x"))
            elif i % 97 == 11:
                out.append(self.action("timeout", i, target_user_id="900003", duration_s=600))
            elif i % 31 == 5:
                out.append(self.notice(i))
            else:
                message = self.message(i)
                recent.append(message.id)
                out.append(message)
        return out


class Kit:
    """What every writer test needs: its namespace, settings, publishing and waiting."""

    def __init__(self, names: Names, js: JetStreamContext, pg_url: str, nats_url: str) -> None:
        self.names = names
        self.js = js
        self.pg_url = pg_url
        self.nats_url = nats_url
        self.events = Events(secrets.token_hex(3))

    def settings(self, **overrides: Any) -> WriterSettings:
        values: dict[str, Any] = {
            "database_url": self.pg_url,
            "nats_url": self.nats_url,
            "nats_namespace": self.names.ns,
            "metrics_host": "127.0.0.1",
            "metrics_port": 0,
            "batch_max_events": 2_000,
            "batch_max_age_ms": 100,
            "retry_min_s": 0.05,
            "retry_max_s": 0.5,
            "shutdown_timeout_s": 15.0,
        }
        values.update(overrides)
        return WriterSettings(**values)

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment of a writer process with the same settings as `settings()`."""
        env = {
            **os.environ,
            "DATABASE_URL": self.pg_url,
            "NATS_URL": self.nats_url,
            "NATS_NAMESPACE": self.names.ns,
            "METRICS_HOST": "127.0.0.1",
            "METRICS_PORT": "0",
            "BATCH_MAX_EVENTS": "2000",
            "BATCH_MAX_AGE_MS": "100",
            "RETRY_MIN_S": "0.05",
            "RETRY_MAX_S": "0.5",
            "LOG_LEVEL": "warning",
        }
        env.update(overrides)
        return env

    async def publish(
        self, events: Iterable[ChatEvent], *, msg_id_suffix: str = ""
    ) -> list[ChatEvent]:
        """Publish like the ingestor (Nats-Msg-Id = event id, plus a suffix to force copies)."""
        published = list(events)
        futures = []
        for event in published:
            futures.append(
                await self.js.publish_async(
                    event_subject(self.names, event),
                    encode_event(event),
                    headers={HEADER_MSG_ID: event.id + msg_id_suffix},
                )
            )
            if len(futures) >= 2_000:
                await asyncio.gather(*futures)
                futures.clear()
        await asyncio.gather(*futures)
        return published

    async def publish_raw(self, subject: str, payload: bytes) -> None:
        await self.js.publish(subject, payload, headers={HEADER_MSG_ID: secrets.token_hex(8)})

    async def consumer_state(self) -> tuple[int, int] | None:
        """(not yet delivered, delivered but unacked) of the writers' consumer."""
        try:
            info = await self.js.consumer_info(self.names.chat_stream, self.names.writer_durable)
        except NotFoundError:
            return None
        return int(info.num_pending or 0), int(info.num_ack_pending or 0)

    async def wait_all_acked(self, within: float = WAIT_S) -> None:
        """Wait until every published event was stored (or dead-lettered) and acked."""

        async def done() -> bool:
            return await self.consumer_state() == (0, 0)

        await wait_until(done, within, "every event to be acked")

    async def until(
        self, check: Callable[[], Awaitable[bool]], what: str, within: float = WAIT_S
    ) -> None:
        """Poll `check` until it is true (every 20 ms, at most `within` seconds)."""
        await wait_until(check, within, what)

    async def count(self, sql: str, *args: Any) -> int:
        conn = await asyncpg.connect(self.pg_url)
        try:
            return int(await conn.fetchval(sql, *args))
        finally:
            await conn.close()

    @contextlib.asynccontextmanager
    async def writer(self, settings: WriterSettings | None = None) -> AsyncIterator[WriterApp]:
        """A writer running in this process; shut down (and drained) at the end of the block."""
        app = WriterApp(settings or self.settings())
        shutdown = Shutdown()
        task = asyncio.create_task(app.run(shutdown))
        started = asyncio.create_task(app.started.wait())
        done, _ = await asyncio.wait({task, started}, timeout=WAIT_S, return_when="FIRST_COMPLETED")
        if task in done:
            started.cancel()
            task.result()  # raises the start-up error
        assert started in done, "the writer did not start"
        try:
            yield app
        finally:
            shutdown.request()
            await asyncio.wait_for(task, WAIT_S)

    @contextlib.asynccontextmanager
    async def process(self, **env: str) -> AsyncIterator[asyncio.subprocess.Process]:
        """A writer process (`python -m archive_writer`); killed at the end if still running."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "archive_writer", env=self.env(**env)
        )
        try:
            yield proc
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()

    async def readyz(self, port: int) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}/readyz", timeout=aiohttp.ClientTimeout(total=5)
            ) as response,
        ):
            return response.status


@pytest.fixture
async def kit(names: Names, js: JetStreamContext, pg_url: str, nats_url: str) -> AsyncIterator[Kit]:
    """A fresh namespace (its own streams) and database for one test."""
    own = Names(ns=f"{names.ns}w{secrets.token_hex(3)}.")
    await ensure_streams(js, own)
    try:
        yield Kit(own, js, pg_url, nats_url)
    finally:
        for stream in (own.chat_stream, own.deadletter_stream):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)


def metric(app: WriterApp, name: str, **labels: str) -> float:
    """A sample of the writer's registry (0 when absent)."""
    return app.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def sample() -> Callable[..., float]:
    """`sample(app, name, **labels)`: read one metric of a writer."""
    return metric
