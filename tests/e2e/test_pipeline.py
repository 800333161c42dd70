"""The whole archive end to end: simulator, ingestor, NATS, writer, PostgreSQL, api, gateway.

Every service runs as its own process, started with the same console scripts `make run` uses, on
this run's database, NATS namespace and Redis prefix.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp
import msgspec

from twitch_archive.simulator import SimulatorHandle

if TYPE_CHECKING:
    from conftest import Stack

WATCHED = "e2e_alpha"
OTHER = "e2e_beta"


async def _ready(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url) as resp:
            return resp.status == 200
    except aiohttp.ClientError:
        return False


async def _api_message_ids(http: aiohttp.ClientSession, api: str, channel: str) -> list[str]:
    params = {"channel": channel, "includeDeleted": "true", "format": "ndjson", "order": "asc"}
    async with http.get(f"{api}/api/messages", params=params) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.read()
    return [msgspec.json.decode(line)["id"] for line in body.splitlines() if line]


async def _api_page_ids(
    http: aiohttp.ClientSession, api: str, path: str, key: str, channel: str
) -> list[str]:
    """Every id of a paged list (mod actions, usernotices) of one channel, following cursors."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"channel": channel, "limit": "100", **({"cursor": cursor} if cursor else {})}
        async with http.get(f"{api}{path}", params=params) as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
        ids += [item["id"] for item in page[key]]
        cursor = page.get("nextCursor")
        if not cursor:
            return ids


async def test_every_sent_event_is_archived_once_and_live_subscribers_get_their_channel(
    stack: Stack, simulator: SimulatorHandle
) -> None:
    """What the simulator sent comes back from the api exactly once; the feed is per channel."""
    received: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        try:
            await stack.until(lambda: _ready(http, f"{stack.api}/readyz"), "the api to be ready")
            await stack.until(lambda: _ready(http, f"{stack.gateway_http}/readyz"), "the gateway")
            async with http.ws_connect(stack.gateway) as ws:
                await ws.send_json({"action": "subscribe", "channels": [WATCHED]})
                ack = await ws.receive_json(timeout=10)
                assert ack["type"] == "subscribed"

                async def traffic_flowing() -> bool:
                    return all(simulator.sent_ids(c) for c in (WATCHED, OTHER))

                await stack.until(traffic_flowing, "the ingestor to join both channels")

                async def read_feed() -> None:
                    # Appended one by one: the task is cancelled, never finished.
                    async for frame in ws:
                        received.append(msgspec.json.decode(frame.data))  # noqa: PERF401

                reader = asyncio.create_task(read_feed())
                await asyncio.sleep(2)
                victim = simulator.sent_ids(WATCHED)[-1]
                ban = (await simulator.send(WATCHED, "ban")).event
                delete = (await simulator.send(WATCHED, "delete", target_message_id=victim)).event
                await asyncio.sleep(1)
                simulator.pause()
                await simulator.flush()
                sent = {channel: simulator.sent_ids(channel) for channel in (WATCHED, OTHER)}

                async def archived(channel: str) -> list[str]:
                    api = stack.api
                    ids = await _api_message_ids(http, api, channel)
                    ids += await _api_page_ids(http, api, "/api/mod-actions", "modActions", channel)
                    ids += await _api_page_ids(
                        http, api, "/api/usernotices", "usernotices", channel
                    )
                    return ids

                async def all_archived() -> bool:
                    for channel, ids in sent.items():
                        if not set(await archived(channel)) >= set(ids):
                            return False
                    return True

                await stack.until(all_archived, "the writer to store every sent event")
                await asyncio.sleep(1)  # let any straggling duplicate land before counting
                reader.cancel()
        except AssertionError:
            print(stack.tail())  # noqa: T201 - the services' logs explain a failure
            raise

        for channel, ids in sent.items():
            stored = await archived(channel)
            assert sorted(stored) == sorted(set(stored)), f"{channel}: an event stored twice"
            assert set(stored) == set(ids), f"{channel}: archive differs from what was sent"

        async with http.get(f"{stack.api}/api/messages/{victim}") as resp:
            message = await resp.json()
        assert message["deleted"] is True
        assert message["deletedAt"] is not None
        async with http.get(
            f"{stack.api}/api/mod-actions", params={"channel": WATCHED, "type": "ban"}
        ) as resp:
            bans = [item["id"] for item in (await resp.json())["modActions"]]
        assert ban.id in bans

    channels = {frame["data"]["channel"] for frame in received if "data" in frame}
    assert channels == {WATCHED}, f"the feed carried {channels - {WATCHED}}"
    by_type = {(frame["type"], frame["data"]["id"]) for frame in received if "data" in frame}
    assert ("mod_action", ban.id) in by_type
    assert ("delete", delete.id) in by_type
    assert any(kind == "message" for kind, _ in by_type)
