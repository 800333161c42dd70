"""The publisher's bounds and retries, against a fake NATS connection that acks on command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry

from archive_ingestor.metrics import IngestorMetrics
from archive_ingestor.publisher import MAX_ERROR_ACKS, Publisher


class FakeMsg:
    def __init__(self, subject: str, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.subject = subject
        self.data = data
        self.headers = headers


class FakeNats:
    """Records publishes; the test decides when and how each is acked."""

    def __init__(self) -> None:
        self.is_connected = True
        self.is_closed = False
        self.sent: list[tuple[str, str, str]] = []
        """(subject, reply, msg id) in send order."""
        self._cb: Callable[[Any], Awaitable[None]] | None = None
        self._published = asyncio.Event()

    def new_inbox(self) -> str:
        return "_INBOX.test"

    async def subscribe(self, subject: str, cb: Any, **_: Any) -> Any:
        self._cb = cb
        return self

    async def unsubscribe(self) -> None:
        return None

    async def publish(
        self, subject: str, payload: bytes, reply: str, headers: dict[str, str]
    ) -> None:
        self.sent.append((subject, reply, headers["Nats-Msg-Id"]))
        self._published.set()

    async def wait_sent(self, count: int) -> None:
        """Return once `count` publishes went out (bounded by the caller's timeout)."""
        while len(self.sent) < count:
            self._published.clear()
            await self._published.wait()

    async def ack(self, index: int, body: dict[str, Any] | None = None) -> None:
        assert self._cb is not None
        _, reply, _ = self.sent[index]
        data = msgspec.json.encode(body if body is not None else {"stream": "S", "seq": index + 1})
        await self._cb(FakeMsg(reply, data))


def make(
    nc: FakeNats, registry: CollectorRegistry, **overrides: Any
) -> tuple[Publisher, IngestorMetrics]:
    metrics = IngestorMetrics(registry)
    options = {"max_in_flight": 2, "buffer_max": 3, "publish_timeout_s": 0.2, **overrides}
    return Publisher(nc, metrics, **options), metrics  # type: ignore[arg-type]  # a fake client


async def test_in_flight_and_buffer_are_bounded_then_publish_blocks() -> None:
    """Two in flight, three buffered, and the sixth publish waits until an ack makes room."""
    nc, registry = FakeNats(), CollectorRegistry()
    publisher, _ = make(nc, registry)
    await publisher.start()
    try:
        for i in range(5):
            await publisher.publish("chat.a.message", b"{}", f"id{i}")
        assert (publisher.in_flight, publisher.buffered) == (2, 3)
        sixth = asyncio.create_task(publisher.publish("chat.a.message", b"{}", "id5"))
        await asyncio.sleep(0.05)
        assert not sixth.done()
        assert publisher.blocked
        await nc.ack(0)
        await asyncio.wait_for(sixth, 1)
        assert publisher.peak_buffered == 3
        assert registry.get_sample_value("archive_ingestor_backpressure_seconds_total") > 0
    finally:
        await publisher.close()


async def test_an_unacked_publish_is_sent_again_with_the_same_id() -> None:
    """No ack within the timeout: the same event id goes out again, and the first ack wins."""
    nc, registry = FakeNats(), CollectorRegistry()
    publisher, _ = make(nc, registry)
    await publisher.start()
    try:
        await publisher.publish("chat.a.message", b"{}", "only")
        await asyncio.sleep(0.5)
        ids = [msg_id for _, _, msg_id in nc.sent]
        assert ids[:2] == ["only", "only"]
        assert nc.sent[0][1] != nc.sent[1][1]  # a new reply token: a late first ack is ignored
        await nc.ack(len(nc.sent) - 1, {"stream": "S", "seq": 1, "duplicate": True})
        assert publisher.in_flight == 0
        retries = registry.get_sample_value(
            "archive_ingestor_publish_retries_total", {"reason": "timeout"}
        )
        assert retries >= 1
        dup = registry.get_sample_value("archive_ingestor_published_total", {"result": "duplicate"})
        assert dup == 1
    finally:
        await publisher.close()


async def test_a_reconnect_resends_what_was_in_flight() -> None:
    """Publishes in flight when NATS dropped are sent again (same ids) once it is back."""
    nc, registry = FakeNats(), CollectorRegistry()
    publisher, _ = make(nc, registry, publish_timeout_s=60)
    await publisher.start()
    try:
        await publisher.publish("chat.a.message", b"{}", "a")
        await publisher.publish("chat.a.message", b"{}", "b")
        nc.is_connected = False
        publisher.on_disconnected()
        await publisher.publish("chat.a.message", b"{}", "c")
        assert publisher.buffered == 1
        nc.is_connected = True
        publisher.on_reconnected()
        await asyncio.sleep(0.05)
        assert [msg_id for _, _, msg_id in nc.sent] == ["a", "b", "a", "b"]
        for index in (2, 3):
            await nc.ack(index)
        await asyncio.sleep(0.05)
        assert [msg_id for _, _, msg_id in nc.sent][4:] == ["c"]
    finally:
        await publisher.close()


async def test_an_event_jetstream_keeps_refusing_is_dropped_and_counted() -> None:
    """After MAX_ERROR_ACKS error acks an event is given up, counted and logged, not retried."""
    nc, registry = FakeNats(), CollectorRegistry()
    publisher, _ = make(nc, registry, publish_timeout_s=0.05)
    await publisher.start()
    error = {"error": {"code": 400, "err_code": 10054, "description": "message size exceeds"}}
    try:
        await publisher.publish("chat.a.message", b"{}", "huge")
        for attempt in range(MAX_ERROR_ACKS):
            async with asyncio.timeout(2):
                await nc.wait_sent(attempt + 1)
            await nc.ack(attempt, error)
        assert await publisher.drain(1) == 0
        dropped = registry.get_sample_value(
            "archive_ingestor_queue_dropped_total",
            {"queue": "publish_buffer", "reason": "rejected"},
        )
        assert dropped == 1
    finally:
        await publisher.close()


async def test_drain_counts_what_could_not_be_acked() -> None:
    """A shutdown that cannot wait for the last acks counts them as dropped at shutdown."""
    nc, registry = FakeNats(), CollectorRegistry()
    publisher, _ = make(nc, registry, publish_timeout_s=60)
    await publisher.start()
    try:
        await publisher.publish("chat.a.message", b"{}", "never-acked")
        assert await publisher.drain(0.05) == 1
        dropped = registry.get_sample_value(
            "archive_ingestor_queue_dropped_total",
            {"queue": "publish_buffer", "reason": "shutdown"},
        )
        assert dropped == 1
    finally:
        await publisher.close()
