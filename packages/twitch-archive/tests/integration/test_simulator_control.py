"""The control surface over HTTP and in-process: traffic, send, inject, drop, sent-id records."""

from __future__ import annotations

import gzip
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from twitch_archive.codec import decode_event
from twitch_archive.errors import IrcParseError
from twitch_archive.events import Message, ModAction
from twitch_archive.irc import parse
from twitch_archive.simulator import SimulatorHandle, run_simulator
from twitch_archive.simulator.client import IrcTestClient


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp client session."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    """A simulator generating 200 lines/s in each of channels a and b."""
    async with run_simulator(channels="a,b", rate=200, seed=9) as handle:
        yield handle


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with session.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def _event_ids(lines: list[str]) -> list[str]:
    ids = []
    for line in lines:
        try:
            event = parse(line)
        except IrcParseError:
            continue
        if event is not None:
            ids.append(event.id)
    return ids


async def _drain(client: IrcTestClient, sim: SimulatorHandle, seconds: float) -> list[str]:
    """Lines for `seconds`, then pause the generator and read what is still in flight."""
    lines = await client.collect(seconds)
    sim.pause()
    await sim.flush()
    return lines + await client.collect(0.2)


async def test_traffic_reaches_joined_channels_only_and_is_recorded_exactly(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Generated events arrive on the joined channel only, and sent-ids list exactly those."""
    client = await IrcTestClient.open(session, sim.irc_url, join=("a",))
    lines = await _drain(client, sim, 0.5)
    received = _event_ids(lines)
    assert len(received) > 30
    assert all(" #a" in line for line in lines if " PRIVMSG " in line)
    assert received == sim.sent_ids("a")
    assert sim.sent_ids("b") == []
    body = await _get(session, f"{sim.control_url}/sent?channel=a")
    assert body == {"channel": "a", "ids": received}
    assert set((await _get(session, f"{sim.control_url}/sent"))["channels"]) == {"a"}


async def test_per_connection_bookkeeping(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Each connection's recorded ids are exactly the events it was sent."""
    early = await IrcTestClient.open(session, sim.irc_url, nick="justinfan1", join=("a",))
    early_lines = await early.collect(0.3)
    late = await IrcTestClient.open(session, sim.irc_url, nick="justinfan2", join=("a",))
    late_lines = await late.collect(0.3)
    sim.pause()
    await sim.flush()
    early_ids = _event_ids(early_lines + await early.collect(0.2))
    late_ids = _event_ids(late_lines + await late.collect(0.2))
    infos = {info.login: info for info in sim.connections()}
    assert sim.connection_ids_sent(infos["justinfan1"].id) == early_ids
    assert sim.connection_ids_sent(infos["justinfan2"].id) == late_ids
    assert set(late_ids) < set(early_ids)
    assert sim.sent_ids("a") == early_ids
    listed = await _get(session, f"{sim.control_url}/connections")
    assert [c["id"] for c in listed["connections"]] == [
        infos["justinfan1"].id,
        infos["justinfan2"].id,
    ]
    detail = await _get(session, f"{sim.control_url}/connections/{infos['justinfan2'].id}")
    assert detail["ids"] == late_ids


async def test_send_over_http_returns_the_event_and_records_it(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """POST /control/send returns the event with its id; it is delivered and listed as sent."""
    sim.pause()
    client = await IrcTestClient.open(session, sim.irc_url, join=("a",))
    await client.expect("ROOMSTATE #a")
    body = await _post(
        session,
        f"{sim.control_url}/send",
        {"channel": "a", "kind": "timeout", "user_login": "spammer", "duration_s": 60},
    )
    event = decode_event(msgspec.json.encode(body["event"]))
    assert body["connections"] == 1
    assert isinstance(event, ModAction)
    assert event.action == "timeout"
    line = await client.expect("CLEARCHAT")
    assert parse(line) == event
    assert line == body["line"]
    assert event.id in sim.sent_ids("a")
    nobody = await _post(session, f"{sim.control_url}/send", {"channel": "nobody", "text": "hi"})
    assert nobody["connections"] == 0
    assert sim.sent_ids("nobody") == []


@pytest.mark.parametrize("kind", ["message", "ban", "timeout", "delete", "clear", "usernotice"])
async def test_every_send_kind_round_trips(
    sim: SimulatorHandle, session: aiohttp.ClientSession, kind: str
) -> None:
    """Each kind of /control/send produces a line the client parses to the returned event."""
    client = await IrcTestClient.open(session, sim.irc_url, join=("a",))
    await client.expect("ROOMSTATE #a")
    sim.pause()
    await sim.send("a", "message", user_login="victim", text="delete me")
    result = await sim.send("a", kind, user_login="victim")  # type: ignore[arg-type]
    line = await client.expect(lambda raw: raw == result.line, within=3)
    assert parse(line) == result.event


async def test_stamp_on_write_dates_messages_at_the_wire(
    session: aiohttp.ClientSession,
) -> None:
    """With stamp_on_write, a message's tmi-sent-ts is its write time; a timeout keeps its own."""
    async with run_simulator(channels="a", rate=0, seed=3, stamp_on_write=True) as stamped:
        client = await IrcTestClient.open(session, stamped.irc_url, join=("a",))
        await client.expect("ROOMSTATE #a")
        before_ms = time.time_ns() // 1_000_000
        message = await stamped.send("a", "message", user_login="viewer", ts=1_000)
        timeout = await stamped.send("a", "timeout", user_login="viewer", ts=2_000)
        after_ms = time.time_ns() // 1_000_000
        got_message = parse(await client.expect(" PRIVMSG "))
        got_timeout = parse(await client.expect(" CLEARCHAT "))
    assert isinstance(got_message, Message)
    assert got_message.id == message.event.id
    assert before_ms <= got_message.ts <= after_ms
    assert got_message == msgspec.structs.replace(message.event, ts=got_message.ts)
    assert got_timeout == timeout.event  # its id hashes ts 2000: restamping would change it
    assert stamped.sent_ids("a") == [message.event.id, timeout.event.id]


async def test_inject_writes_raw_lines_as_they_are(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Injected lines, malformed ones included, arrive byte for byte; valid events are recorded."""
    sim.pause()
    client = await IrcTestClient.open(session, sim.irc_url, join=("a",))
    await client.expect("ROOMSTATE #a")
    valid = (
        "@id=aaaaaaaa-0000-4000-8000-000000000000;room-id=1;tmi-sent-ts=5 "
        ":u!u@u.tmi.twitch.tv PRIVMSG #a :ok"
    )
    lines = ["@badtags", ":tmi.twitch.tv  PRIVMSG  #a", valid, "garbage \x01 line"]
    body = await _post(session, f"{sim.control_url}/inject", {"channel": "a", "lines": lines})
    assert body["connections"] == 1
    assert body["event_ids"] == [None, None, "aaaaaaaa-0000-4000-8000-000000000000", None]
    assert [await client.line() for _ in lines] == lines
    assert sim.sent_ids("a") == ["aaaaaaaa-0000-4000-8000-000000000000"]


async def test_reconnect_some_connections_over_http(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """`connections: 1` sends RECONNECT to the oldest connection only, then closes it."""
    first = await IrcTestClient.open(session, sim.irc_url, nick="justinfan1")
    await first.expect("376")
    second = await IrcTestClient.open(session, sim.irc_url, nick="justinfan2")
    await second.expect("376")
    body = await _post(session, f"{sim.control_url}/reconnect", {"connections": 1, "grace_s": 0.2})
    assert len(body["connections"]) == 1
    assert await first.expect("RECONNECT") == ":tmi.twitch.tv RECONNECT"
    await first.wait_closed()
    assert not second.closed
    assert sim.stats().connections == 1


async def test_drop_cuts_connections_holding_a_channel(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Drop by channel closes only those connections, without a RECONNECT or a close frame."""
    holder = await IrcTestClient.open(session, sim.irc_url, nick="justinfan1", join=("b",))
    other = await IrcTestClient.open(session, sim.irc_url, nick="justinfan2", join=("a",))
    await holder.expect("ROOMSTATE #b")
    await other.expect("ROOMSTATE #a")
    body = await _post(session, f"{sim.control_url}/drop", {"channel": "b"})
    assert len(body["connections"]) == 1
    lines = await holder.wait_closed()
    assert not any("RECONNECT" in line for line in lines)
    assert holder.close_code != 1000
    assert not other.closed
    # Everything recorded as sent to the dropped connection did reach it.
    info = next(i for i in sim.connections() if i.login == "justinfan1")
    received = set(_event_ids(lines))
    assert set(sim.connection_ids_sent(info.id)) <= received | set(
        _event_ids(await holder.collect(0))
    )


async def test_rate_and_pause_over_http(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """POST /control/rate changes one channel's rate and pauses the generator."""
    client = await IrcTestClient.open(session, sim.irc_url, join=("a",))
    await client.expect("ROOMSTATE #a")
    stats = await _post(session, f"{sim.control_url}/rate", {"channel": "a", "rate": 5})
    assert stats["rates"]["a"] == 5
    paused = await _post(session, f"{sim.control_url}/rate", {"paused": True})
    assert paused["paused"] is True
    await sim.flush()
    await client.collect(0.1)
    assert await client.collect(0.3) == []


async def test_reset_sent_forgets_history(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """After reset-sent the sent lists are empty and closed connections are gone."""
    client = await IrcTestClient.open(session, sim.irc_url, join=("a",))
    await client.collect(0.2)
    await client.close()
    await _post(session, f"{sim.control_url}/reset-sent", {})
    assert sim.sent_ids("a") == []
    assert sim.connections() == []


async def test_health_and_bad_requests(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Health answers; an invalid body gets a 400 with a JSON error naming the problem."""
    health = await _get(session, f"{sim.control_url}/health")
    assert health == {"status": "ok", "irc_url": sim.irc_url, "seed": 9}
    async with session.post(
        f"{sim.control_url}/send", json={"channel": "a", "kind": "dance"}
    ) as response:
        assert response.status == 400
        body = await response.json()
        assert body["error"] == "invalid request body"
        assert "kind" in body["detail"]
    async with session.get(f"{sim.control_url}/connections/c999") as response:
        assert response.status == 404


async def test_replay_over_http_rewrites_onto_the_channel(
    sim: SimulatorHandle, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """A gzipped log replayed at max speed arrives on the target channel with fresh ids."""
    sim.pause()
    log_lines = [
        f"@id=0000000{i}-0000-4000-8000-000000000000;room-id=1;tmi-sent-ts={1000 + i} "
        f":u{i}!u{i}@u{i}.tmi.twitch.tv PRIVMSG #source :line {i}"
        for i in range(5)
    ]
    path = tmp_path / "log.txt.gz"
    path.write_bytes(gzip.compress("\n".join(log_lines).encode()))
    client = await IrcTestClient.open(session, sim.irc_url, join=("b",))
    await client.expect("ROOMSTATE #b")
    await _post(
        session, f"{sim.control_url}/replay", {"file": str(path), "channels": ["b"], "speed": "max"}
    )
    lines = [await client.expect("PRIVMSG") for _ in log_lines]
    events = [parse(line) for line in lines]
    assert [e.text for e in events if isinstance(e, Message)] == [f"line {i}" for i in range(5)]
    assert all(e is not None and e.channel == "b" for e in events)
    await sim.flush()
    assert sim.sent_ids("b") == [e.id for e in events if e is not None]
    assert not {e.id for e in events if e is not None} & {
        f"0000000{i}-0000-4000-8000-000000000000" for i in range(5)
    }


async def test_auto_traffic_and_skew(session: aiohttp.ClientSession) -> None:
    """With auto_traffic any joined channel gets traffic; skew makes the first channel busiest."""
    async with run_simulator(
        channels="top,mid", rate=50, skew=1.0, auto_traffic=True, seed=2
    ) as sim:
        client = await IrcTestClient.open(session, sim.irc_url, join=("top", "mid", "extra"))
        await client.collect(0.3)
        rates = sim.stats().rates
        assert rates["top"] > rates["mid"] > rates["extra"] > 0
        assert abs(sum(rates.values()) - 150) < 1e-6


async def test_records_match_deliveries_through_drops_and_reconnects(
    session: aiohttp.ClientSession,
) -> None:
    """Under load, each connection's recorded ids are exactly what it received, cut or not."""
    async with run_simulator(channels="a", rate=2000, seed=4, frame_bytes=2048) as sim:
        clients = [
            await IrcTestClient.open(session, sim.irc_url, nick=f"justinfan{i}", join=("a",))
            for i in range(3)
        ]
        received: list[list[str]] = [await c.collect(0.3) for c in clients]
        await sim.drop([sim.connections()[0].id])
        await sim.reconnect([sim.connections()[1].id], grace_s=0.1)
        for i, client in enumerate(clients[:2]):
            received[i] += await client.wait_closed(within=5)
        received[2] += await _drain(clients[2], sim, 0.2)
        for info, lines in zip(sim.connections(), received, strict=True):
            assert sim.connection_ids_sent(info.id) == _event_ids(lines), info
        union = {i for info in sim.connections() for i in sim.connection_ids_sent(info.id)}
        assert set(sim.sent_ids("a")) == union
