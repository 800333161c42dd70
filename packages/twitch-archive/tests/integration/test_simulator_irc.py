"""The simulator's IRC dialect over a real loopback WebSocket: login, JOIN/PART, PING, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from twitch_archive.simulator import SimulatorHandle, run_simulator
from twitch_archive.simulator.client import IrcTestClient
from twitch_archive.simulator.traffic import room_id

WELCOME = [
    ":tmi.twitch.tv 001 {nick} :Welcome, GLHF!",
    ":tmi.twitch.tv 002 {nick} :Your host is tmi.twitch.tv",
    ":tmi.twitch.tv 003 {nick} :This server is rather new",
    ":tmi.twitch.tv 004 {nick} :-",
    ":tmi.twitch.tv 375 {nick} :-",
    ":tmi.twitch.tv 372 {nick} :You are in a maze of twisty passages, all alike.",
    ":tmi.twitch.tv 376 {nick} :>",
]
CAPS_ACK = ":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands twitch.tv/membership"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp client session."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    """A quiet simulator (no generated traffic) with a valid token and a small JOIN limit."""
    async with run_simulator(
        seed=1, rate=0, oauth_tokens="goodtoken", join_limit=3, ping_interval_s=60
    ) as handle:
        yield handle


async def _joined(client: IrcTestClient, *channels: str) -> None:
    for channel in channels:
        await client.expect(f"ROOMSTATE #{channel}")


async def test_anonymous_login_gets_ack_and_welcome(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """justinfanNNNN with any PASS gets the CAP ACK and Twitch's welcome numerics, in order."""
    client = await IrcTestClient.open(
        session, sim.irc_url, nick="justinfan4242", password="whatever"
    )
    lines = [await client.line() for _ in range(8)]
    assert lines == [CAPS_ACK, *(w.format(nick="justinfan4242") for w in WELCOME)]


async def test_unknown_capability_is_nakked(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """A CAP REQ naming an unknown capability is refused whole with NAK."""
    client = await IrcTestClient.open(session, sim.irc_url, nick=None, password=None, caps=False)
    await client.send("CAP REQ :twitch.tv/tags twitch.tv/bogus", "CAP LS 302")
    assert await client.line() == ":tmi.twitch.tv CAP * NAK :twitch.tv/tags twitch.tv/bogus"
    assert await client.line() == (
        ":tmi.twitch.tv CAP * LS :twitch.tv/tags twitch.tv/commands twitch.tv/membership"
    )


async def test_valid_token_logs_in_with_user_state(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """A configured token logs in; GLOBALUSERSTATE follows the welcome, USERSTATE each JOIN."""
    client = await IrcTestClient.open(
        session, sim.irc_url, nick="MyBot", password="oauth:goodtoken"
    )
    await client.expect(":tmi.twitch.tv 376 mybot :>")
    assert (await client.line()).endswith(":tmi.twitch.tv GLOBALUSERSTATE")
    await client.send("JOIN #chan")
    lines = [await client.line() for _ in range(5)]
    assert lines[0] == ":mybot!mybot@mybot.tmi.twitch.tv JOIN #chan"
    assert lines[3].endswith(":tmi.twitch.tv USERSTATE #chan")
    assert lines[4].endswith(":tmi.twitch.tv ROOMSTATE #chan")


async def test_wrong_token_gets_notice_then_close(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """A wrong token gets Twitch's login-failure NOTICE and the connection is closed."""
    client = await IrcTestClient.open(session, sim.irc_url, nick="mybot", password="oauth:wrong")
    lines = await client.wait_closed()
    assert lines == [CAPS_ACK, ":tmi.twitch.tv NOTICE * :Login authentication failed"]
    assert client.closed


async def test_unformatted_auth_gets_notice_then_close(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """A non-anonymous NICK without an oauth: PASS gets `Improperly formatted auth` and a close."""
    client = await IrcTestClient.open(session, sim.irc_url, nick="mybot", password="goodtoken")
    assert await client.wait_closed() == [
        CAPS_ACK,
        ":tmi.twitch.tv NOTICE * :Improperly formatted auth",
    ]


async def test_join_confirmations_for_a_comma_list(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """JOIN #a,#b gets, per channel, the JOIN echo, 353, 366 and ROOMSTATE with its room-id."""
    client = await IrcTestClient.open(session, sim.irc_url, nick="justinfan1", join=("a", "b"))
    await client.expect("376")
    lines = [await client.line() for _ in range(8)]
    nick = "justinfan1"
    for i, channel in enumerate(("a", "b")):
        assert lines[4 * i : 4 * i + 4] == [
            f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN #{channel}",
            f":{nick}.tmi.twitch.tv 353 {nick} = #{channel} :{nick}",
            f":{nick}.tmi.twitch.tv 366 {nick} #{channel} :End of /NAMES list",
            f"@emote-only=0;followers-only=-1;r9k=0;room-id={room_id(channel)};slow=0;"
            f"subs-only=0 :tmi.twitch.tv ROOMSTATE #{channel}",
        ]
    assert sim.stats().channels == {sim.connections()[0].id: ["a", "b"]}


async def test_invalid_channel_names_are_not_joined(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """A name outside ^[a-z0-9_]{1,25}$ gets msg_channel_suspended and is not joined."""
    client = await IrcTestClient.open(session, sim.irc_url, join=("Bad-Name", "x" * 26))
    first = await client.expect("NOTICE")
    second = await client.expect("NOTICE")
    assert first.startswith("@msg-id=msg_channel_suspended :tmi.twitch.tv NOTICE #Bad-Name :")
    assert second.startswith(f"@msg-id=msg_channel_suspended :tmi.twitch.tv NOTICE #{'x' * 26} :")
    assert sim.stats().joins == 0


async def test_part_is_echoed_and_stops_the_channel(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """PART is echoed, and the channel's lines stop reaching the connection."""
    client = await IrcTestClient.open(session, sim.irc_url, nick="justinfan7", join=("a",))
    await _joined(client, "a")
    await client.send("PART #a")
    assert await client.line() == ":justinfan7!justinfan7@justinfan7.tmi.twitch.tv PART #a"
    result = await sim.send("a", "message", text="after part")
    assert result.connections == 0
    assert await client.collect(0.2) == []


async def test_client_ping_gets_pong(sim: SimulatorHandle, session: aiohttp.ClientSession) -> None:
    """PING is answered the way Twitch does, with and without an argument."""
    client = await IrcTestClient.open(session, sim.irc_url)
    await client.expect("376")
    await client.send("PING", "PING :hello there")
    assert await client.line() == "PONG :tmi.twitch.tv"
    assert await client.line() == ":tmi.twitch.tv PONG tmi.twitch.tv :hello there"


async def test_server_pings_and_closes_a_silent_client(session: aiohttp.ClientSession) -> None:
    """The server PINGs periodically; answered PINGs keep the connection, a missed one closes it."""
    async with run_simulator(rate=0, ping_interval_s=0.2, pong_timeout_s=0.3) as sim:
        client = await IrcTestClient.open(session, sim.irc_url)
        assert await client.expect("PING", within=2) == "PING :tmi.twitch.tv"
        await client.send("PONG :tmi.twitch.tv")
        assert await client.expect("PING", within=2) == "PING :tmi.twitch.tv"
        await client.wait_closed(within=3)
        assert sim.connections()[0].close_reason == "ping timeout"


async def test_unknown_command_and_commands_before_login(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Before NICK a JOIN is ignored; after it an unknown command gets 421."""
    client = await IrcTestClient.open(session, sim.irc_url, nick=None, password=None)
    await client.send("JOIN #early")
    await client.expect("CAP * ACK")
    await client.send("NICK justinfan9", "FOO bar")
    await client.expect("376")
    assert await client.line() == ":tmi.twitch.tv 421 justinfan9 FOO :Unknown command"
    assert sim.stats().joins == 0


async def test_join_rate_limit_refuses_the_excess_with_a_notice(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Over 3 JOINs per window, the excess channels are not joined and each gets a NOTICE."""
    client = await IrcTestClient.open(session, sim.irc_url, join=("c1", "c2", "c3", "c4", "c5"))
    lines = await client.collect(0.3)
    roomstates = [line for line in lines if " ROOMSTATE " in line]
    notices = [line for line in lines if " NOTICE " in line]
    assert [line.rsplit(" ", 1)[1] for line in roomstates] == ["#c1", "#c2", "#c3"]
    assert [line.split(" ")[3] for line in notices] == ["#c4", "#c5"]
    assert all(line.startswith("@msg-id=msg_ratelimit :tmi.twitch.tv NOTICE ") for line in notices)
    stats = sim.stats()
    assert (stats.joins, stats.joins_refused) == (3, 2)


async def test_join_limit_is_per_login_across_connections(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Two connections of one login share the JOIN budget; another login has its own."""
    first = await IrcTestClient.open(
        session, sim.irc_url, nick="bot", password="oauth:goodtoken", join=("a", "b")
    )
    await _joined(first, "a", "b")
    second = await IrcTestClient.open(
        session, sim.irc_url, nick="bot", password="oauth:goodtoken", join=("c", "d")
    )
    await _joined(second, "c")
    assert "msg_ratelimit" in await second.expect("NOTICE #d")
    other = await IrcTestClient.open(session, sim.irc_url, nick="justinfan5", join=("d",))
    await _joined(other, "d")


async def test_silent_join_limit_matches_real_twitch(session: aiohttp.ClientSession) -> None:
    """With join_limit_notice off, JOINs over the limit get no answer at all."""
    async with run_simulator(rate=0, join_limit=1, join_limit_notice=False) as sim:
        client = await IrcTestClient.open(session, sim.irc_url, join=("a", "b"))
        lines = await client.collect(0.3)
        assert any(line.endswith("ROOMSTATE #a") for line in lines)
        assert not any("#b" in line for line in lines)
        assert sim.stats().joins_refused == 1


async def test_several_connections_and_multi_line_frames(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Clients may send several lines per frame; the server packs several lines per frame too."""
    clients = [
        await IrcTestClient.open(session, sim.irc_url, nick=f"justinfan{i}", join=("z",))
        for i in range(3)
    ]
    for client in clients:
        await _joined(client, "z")
    await sim.send("z", "message", text="to everyone")
    for client in clients:
        assert (await client.expect("PRIVMSG")).endswith("PRIVMSG #z :to everyone")
        assert client.frames < 14  # 1 ACK + 7 welcome + 4 join lines + 1 message arrived batched
    assert sim.stats().connections == 3


async def test_capabilities_shape_what_a_client_receives(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """Without tags lines lose their tags; without commands ROOMSTATE and CLEARCHAT are not sent."""
    client = await IrcTestClient.open(session, sim.irc_url, caps=False, join=("a",))
    await client.expect(":justinfan12345.tmi.twitch.tv 366")
    await sim.send("a", "timeout", user_login="someone", duration_s=10)
    await sim.send("a", "message", user_login="alice", text="plain")
    assert await client.line() == ":alice!alice@alice.tmi.twitch.tv PRIVMSG #a :plain"


async def test_reconnect_line_then_close(
    sim: SimulatorHandle, session: aiohttp.ClientSession
) -> None:
    """RECONNECT reaches the client, which the server closes after the grace period."""
    client = await IrcTestClient.open(session, sim.irc_url)
    await client.expect("376")
    started = asyncio.get_running_loop().time()
    await sim.reconnect("all", grace_s=0.3)
    assert await client.line() == ":tmi.twitch.tv RECONNECT"
    await client.wait_closed(within=3)
    assert asyncio.get_running_loop().time() - started >= 0.25
    assert sim.connections()[0].close_reason == "reconnect"
