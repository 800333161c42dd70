"""Fan-out without sockets: shared frames, bounded queues, slow clients, rate limit, bridge."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from nats.errors import SlowConsumerError
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from archive_live_gateway import nats_bridge
from archive_live_gateway.client import (
    RATE_LIMIT,
    SLOW_CONSUMER,
    Client,
    Outbox,
    RateLimiter,
    Verdict,
)
from archive_live_gateway.hub import Hub
from archive_live_gateway.metrics import GatewayMetrics
from archive_live_gateway.nats_bridge import NatsBridge
from archive_live_gateway.protocol import Frame, event_frame
from twitch_archive.codec import encode_event
from twitch_archive.events import Message
from twitch_archive.subjects import Names


class FakeSink:
    """A socket that records writes; `paused` simulates a full transport buffer."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.paused = False
        self.closed_with: tuple[int, str] | None = None
        self.aborted = False
        self.resumed = asyncio.Event()
        self.wrote = asyncio.Event()

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.wrote.set()

    async def drain(self) -> None:
        await self.resumed.wait()

    async def close(self, code: int, message: str) -> None:
        self.closed_with = (code, message)

    def abort(self) -> None:
        self.aborted = True


@pytest.fixture
def metrics() -> GatewayMetrics:
    """Metrics on a registry of the test's own."""
    return GatewayMetrics(CollectorRegistry())


@pytest.fixture
async def outbox(metrics: GatewayMetrics) -> Outbox:
    """The outbox on the test's event loop."""
    return Outbox(metrics, asyncio.get_running_loop())


ClientMaker = Callable[..., tuple[Client, FakeSink]]


@pytest.fixture
def make_client(outbox: Outbox, metrics: GatewayMetrics) -> ClientMaker:
    """Clients on fake sockets (`make_client(capacity=5)`)."""

    def make(capacity: int = 100) -> tuple[Client, FakeSink]:
        sink = FakeSink()
        return Client(sink, outbox, metrics, capacity=capacity), sink

    return make


def _frame(i: int = 0, channel: str = "alpha") -> Frame:
    frame = event_frame(Message(id=f"m{i}", channel=channel, ts=1_000 + i, text=f"t{i}"))
    assert frame is not None
    return frame


async def _next_iteration() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class TestOutbox:
    async def test_frames_of_one_iteration_go_out_in_one_write(
        self, make_client: ClientMaker
    ) -> None:
        """Fan-out only queues; the socket gets one write per loop iteration with every frame."""
        client, sink = make_client()
        frames = [_frame(i) for i in range(3)]
        for frame in frames:
            assert client.send(frame)
        assert sink.writes == []
        await _next_iteration()
        assert sink.writes == [b"".join(f.wire for f in frames)]
        assert (client.frames_out, len(client.queue)) == (3, 0)

    async def test_under_load_one_write_carries_an_interval(self, metrics: GatewayMetrics) -> None:
        """With an interval, the first frame goes at once and the next ones wait for the tick."""
        loop = asyncio.get_running_loop()
        outbox = Outbox(metrics, loop, interval_s=0.05)
        sink = FakeSink()
        client = Client(sink, outbox, metrics, capacity=100)
        client.send(_frame(0))
        await _next_iteration()
        assert sink.writes == [_frame(0).wire]
        client.send(_frame(1))
        client.send(_frame(2))
        await _next_iteration()
        assert len(sink.writes) == 1  # within the interval: waiting
        sink.wrote.clear()
        await asyncio.wait_for(sink.wrote.wait(), 1)
        assert sink.writes[1] == _frame(1).wire + _frame(2).wire

    async def test_a_paused_socket_keeps_frames_queued_until_it_drains(
        self, make_client: ClientMaker
    ) -> None:
        """While the transport is over its high-water mark, frames wait; they go once it drains."""
        client, sink = make_client()
        sink.paused = True
        client.send(_frame(1))
        await _next_iteration()
        assert sink.writes == []
        assert len(client.queue) == 1
        sink.paused = False
        sink.resumed.set()
        await _next_iteration()
        await _next_iteration()
        assert sink.writes == [_frame(1).wire]

    async def test_the_delivery_delay_is_observed_per_frame(
        self, make_client: ClientMaker, metrics: GatewayMetrics
    ) -> None:
        """Each written frame counts once in the delivery-delay histogram."""
        client, _ = make_client()
        for i in range(4):
            client.send(_frame(i))
        await _next_iteration()
        assert metrics.delivery_delay.count == 4


class TestSlowConsumers:
    async def test_a_client_whose_socket_is_stuck_is_dropped_at_capacity(
        self, make_client: ClientMaker, metrics: GatewayMetrics
    ) -> None:
        """With the socket backed up, the frame past SEND_QUEUE_MAX closes the client with 4008."""
        client, sink = make_client(capacity=3)
        sink.paused = True
        assert all(client.send(_frame(i)) for i in range(3))
        assert not client.send(_frame(3))
        assert client.closing is SLOW_CONSUMER
        assert len(client.queue) == 0  # its frames are released at once
        await client.closed()
        assert sink.closed_with == (4008, "slow consumer")
        registry = metrics.registry
        assert (
            registry.get_sample_value(
                "archive_live_gateway_clients_dropped_total", {"reason": "slow_consumer"}
            )
            == 1
        )
        assert not client.send(_frame(4))  # nothing more is queued for it

    async def test_a_burst_beyond_capacity_is_written_not_dropped(
        self, make_client: ClientMaker
    ) -> None:
        """A full queue on a socket that takes data is written at once: a burst is not slowness."""
        client, sink = make_client(capacity=3)
        assert all(client.send(_frame(i)) for i in range(10))
        assert client.closing is None
        await _next_iteration()
        assert b"".join(sink.writes) == b"".join(_frame(i).wire for i in range(10))

    async def test_a_close_that_hangs_is_cut(
        self, make_client: ClientMaker, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A client that never completes the close handshake has its socket aborted."""
        client, sink = make_client()

        async def never(code: int, message: str) -> None:
            await asyncio.Event().wait()

        sink.close = never  # type: ignore[method-assign]
        monkeypatch.setattr("archive_live_gateway.client.CLOSE_TIMEOUT_S", 0.01)
        client.drop(RATE_LIMIT)
        await client.closed()
        assert sink.aborted


class TestRateLimiter:
    def test_a_burst_then_the_steady_rate(self) -> None:
        """Twice the rate passes at once, then one frame per 1/rate seconds."""
        limiter = RateLimiter(2.0, now=0.0)
        assert [limiter.check(0.0) for _ in range(5)] == [Verdict.ALLOW] * 4 + [Verdict.REFUSE]
        assert limiter.check(0.5) is Verdict.ALLOW
        assert limiter.check(0.5) is Verdict.REFUSE

    def test_sustained_abuse_is_closed(self) -> None:
        """More refused frames in ten seconds than ten seconds' worth of the rate means close."""
        limiter = RateLimiter(1.0, now=0.0)
        verdicts = [limiter.check(i * 0.01) for i in range(14)]
        assert verdicts[:2] == [Verdict.ALLOW] * 2
        assert verdicts[2:12] == [Verdict.REFUSE] * 10
        assert verdicts[12] is Verdict.CLOSE

    def test_occasional_excess_is_forgiven(self) -> None:
        """Refusals spread over many windows never add up to a close."""
        limiter = RateLimiter(1.0, now=0.0)
        now, verdicts = 0.0, []
        for _ in range(100):
            verdicts += [limiter.check(now) for _ in range(4)]
            now += 11.0
        assert Verdict.CLOSE not in verdicts


class TestHub:
    async def test_one_frame_object_goes_to_every_watcher(
        self, make_client: ClientMaker, metrics: GatewayMetrics
    ) -> None:
        """Watchers of a channel share the frame (no copy); other channels' clients get nothing."""
        hub = Hub(metrics)
        (a1, _), (a2, _), (b1, _) = make_client(), make_client(), make_client()
        hub.watch(a1, ["alpha"])
        hub.watch(a2, ["alpha", "beta"])
        hub.watch(b1, ["beta"])
        frame = _frame()
        assert hub.deliver("alpha", frame) == 2
        assert a1.queue[0] is frame
        assert a2.queue[0] is frame
        assert not b1.queue
        assert (
            metrics.registry.get_sample_value(
                "archive_live_gateway_frames_sent_total", {"type": "message"}
            )
            == 2
        )

    async def test_a_firehose_client_gets_a_watched_channel_once(
        self, make_client: ClientMaker, metrics: GatewayMetrics
    ) -> None:
        """A client on `*` and `alpha` gets alpha's events only through the firehose."""
        hub = Hub(metrics)
        client, _ = make_client()
        hub.watch(client, ["*", "alpha"])
        assert hub.deliver("alpha", _frame()) == 0
        assert hub.deliver("*", _frame()) == 1
        hub.unwatch(client, ["*"])
        assert hub.deliver("alpha", _frame()) == 1

    async def test_keys_stay_wanted_while_watched_or_reserved(
        self, make_client: ClientMaker, metrics: GatewayMetrics
    ) -> None:
        """A key is wanted from its reservation until its last watcher leaves."""
        hub = Hub(metrics)
        one, _ = make_client()
        two, _ = make_client()
        hub.reserve(["alpha"])
        assert hub.wanted("alpha")
        assert not hub.wanted("beta")
        hub.release(["alpha"])
        assert not hub.wanted("alpha")
        hub.watch(one, ["alpha"])
        hub.watch(two, ["alpha"])
        assert hub.unwatch(one, ["alpha", "beta"]) == []
        hub.connect(two)
        assert hub.disconnect(two) == ["alpha"]
        assert not hub.wanted("alpha")
        assert metrics.registry.get_sample_value("archive_live_gateway_subscriptions") == 0


class FakeSubscription:
    def __init__(self, nats: FakeNats, subject: str) -> None:
        self.nats = nats
        self.subject = subject
        self.pending_msgs = 0

    async def unsubscribe(self) -> None:
        self.nats.subjects.remove(self.subject)


class FakeNats:
    """The part of the NATS client the bridge uses, without a server."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.callbacks: dict[str, Callable[[Any], Awaitable[None]]] = {}
        self.flushes = 0
        self.is_closed = False

    async def subscribe(self, subject: str, cb: Any, **limits: int) -> FakeSubscription:
        self.subjects.append(subject)
        self.callbacks[subject] = cb
        return FakeSubscription(self, subject)

    async def flush(self, timeout: float) -> None:  # noqa: ASYNC109 - NATS client's signature
        self.flushes += 1


class TestBridge:
    @pytest.fixture
    def parts(
        self, metrics: GatewayMetrics, make_client: ClientMaker
    ) -> tuple[NatsBridge, FakeNats, Hub]:
        """A bridge on a fake NATS client and a real hub."""
        nats, hub = FakeNats(), Hub(metrics)
        bridge = NatsBridge(
            nats,  # type: ignore[arg-type]  # the fake has what the bridge uses
            Names(ns="t1."),
            hub,
            metrics,
            pending_msgs=10,
            pending_bytes=1024,
        )
        return bridge, nats, hub

    async def test_subscriptions_follow_what_the_hub_wants(
        self, parts: tuple[NatsBridge, FakeNats, Hub], make_client: ClientMaker
    ) -> None:
        """One subscription per wanted key, confirmed with a flush, dropped when unwanted."""
        bridge, nats, hub = parts
        client, _ = make_client()
        hub.reserve(["alpha", "*"])
        await bridge.sync(["alpha", "*"])
        assert nats.subjects == ["t1.chat.alpha.>", "t1.chat.>"]
        assert nats.flushes == 2  # see NatsBridge._confirm
        hub.release(["alpha", "*"])
        hub.watch(client, ["alpha", "*"])
        bridge.request_sync(hub.unwatch(client, ["alpha"]))
        await asyncio.sleep(0.01)
        assert nats.subjects == ["t1.chat.>"]
        assert bridge.subscribed == {"*"}

    async def test_an_event_on_two_subscriptions_is_decoded_once(
        self, parts: tuple[NatsBridge, FakeNats, Hub], metrics: GatewayMetrics,
        make_client: ClientMaker,
    ) -> None:  # fmt: skip
        """The firehose copy and the channel copy of one event share one decode and one frame."""
        bridge, _, hub = parts
        hose, watcher = make_client(), make_client()
        hub.reserve(["alpha", "*"])
        await bridge.sync(["alpha", "*"])
        hub.release(["alpha", "*"])
        hub.watch(hose[0], ["*"])
        hub.watch(watcher[0], ["alpha"])
        payload = encode_event(Message(id="m1", channel="alpha", ts=1, text="x"))
        bridge.handle("*", "t1.chat.alpha.message", payload)
        bridge.handle("alpha", "t1.chat.alpha.message", bytes(payload))  # an equal, new object
        assert hose[0].queue[0] is watcher[0].queue[0]
        assert (
            metrics.registry.get_sample_value(
                "archive_live_gateway_events_received_total", {"type": "message"}
            )
            == 1
        )

    async def test_a_second_publish_of_an_event_is_not_sent_again(
        self, parts: tuple[NatsBridge, FakeNats, Hub], metrics: GatewayMetrics,
        make_client: ClientMaker,
    ) -> None:  # fmt: skip
        """A duplicate (same bytes, or same id in other bytes) on one subscription goes nowhere."""
        bridge, _, hub = parts
        client, _ = make_client()
        hub.watch(client, ["alpha"])
        event = Message(id="m1", channel="alpha", ts=1, text="x")
        payload = encode_event(event)
        reordered = payload.replace(b'"text":"x"', b'"text":"x" ')  # other bytes, same event
        assert bridge.handle("alpha", "t1.chat.alpha.message", payload) == 1
        assert bridge.handle("alpha", "t1.chat.alpha.message", bytes(payload)) == 0
        assert bridge.handle("alpha", "t1.chat.alpha.message", reordered) == 0
        assert len(client.queue) == 1
        sample = metrics.registry.get_sample_value
        assert sample("archive_live_gateway_events_duplicate_total") == 2
        assert sample("archive_live_gateway_events_received_total", {"type": "message"}) == 2

    async def test_the_dedupe_memory_forgets_the_oldest_ids_first(
        self, parts: tuple[NatsBridge, FakeNats, Hub], make_client: ClientMaker,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:  # fmt: skip
        """At its bound the bridge forgets the oldest event id and payload, and only those."""
        monkeypatch.setattr(nats_bridge, "DEDUPE_IDS", 3)
        monkeypatch.setattr(nats_bridge, "RECENT_PAYLOADS", 3)
        bridge, _, hub = parts
        client, _ = make_client()
        hub.watch(client, ["alpha"])
        payloads = [
            encode_event(Message(id=f"m{i}", channel="alpha", ts=i, text="x")) for i in range(4)
        ]
        assert [bridge.handle("alpha", "s", p) for p in payloads] == [1, 1, 1, 1]
        assert bridge.handle("alpha", "s", payloads[1]) == 0  # still remembered
        assert bridge.handle("alpha", "s", payloads[0]) == 1  # forgotten: m0 went first
        assert len(client.queue) == 5

    async def test_events_nats_drops_for_a_slow_subscription_are_counted(
        self, parts: tuple[NatsBridge, FakeNats, Hub], metrics: GatewayMetrics
    ) -> None:
        """Each event NATS drops past the pending limits counts, and the log line is throttled."""
        bridge, _, _ = parts
        with capture_logs() as logs:
            for _ in range(3):
                await bridge.on_nats_error(
                    SlowConsumerError(subject="t1.chat.alpha.message", reply="", sid=1, sub=None)  # type: ignore[arg-type]
                )
        assert (
            metrics.registry.get_sample_value(
                "archive_live_gateway_queue_dropped_total",
                {"queue": "nats", "reason": "slow_consumer"},
            )
            == 3
        )
        assert [entry["event"] for entry in logs] == ["nats_slow_consumer"]

    async def test_an_undecodable_event_is_counted_and_skipped(
        self, parts: tuple[NatsBridge, FakeNats, Hub], metrics: GatewayMetrics
    ) -> None:
        """A payload that is not a chat event is counted and goes to nobody."""
        bridge, _, _ = parts
        assert bridge.handle("alpha", "t1.chat.alpha.message", b'{"type": "nope"}') == 0
        assert metrics.registry.get_sample_value("archive_live_gateway_events_invalid_total") == 1
