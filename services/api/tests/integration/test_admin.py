"""Channel management: bearer token, validation, database, KV bucket and NATS nudges."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from nats.js.errors import KeyNotFoundError

from twitch_archive.control import CHANNEL_KV_VALUE, ChannelControl, decode_control
from twitch_archive.subjects import Names

AUTH = {"Authorization": "Bearer s3cret-admin-token"}


async def connected(client) -> Names:
    """Wait until the api's NATS link is up; the names it uses."""
    desired = client.app.state.ctx.desired
    for _ in range(250):
        if desired.connected:
            return desired.names
        await asyncio.sleep(0.02)
    raise AssertionError("the api never connected to NATS")


class Nudges:
    """Control messages the api publishes, as seen by an ingestor."""

    def __init__(self) -> None:
        self.items: asyncio.Queue[ChannelControl] = asyncio.Queue()

    async def handler(self, msg) -> None:
        await self.items.put(decode_control(msg.data))

    async def next(self) -> ChannelControl:
        return await asyncio.wait_for(self.items.get(), 5)


@pytest.fixture
async def admin(client, nc, js):
    """(client, kv bucket, nudges) with the api connected and a subscriber listening."""
    names = await connected(client)
    nudges = Nudges()
    sub = await nc.subscribe(names.control_channels_changed, cb=nudges.handler)
    await nc.flush()
    kv = await js.key_value(names.channels_bucket)
    # The app reconciles the bucket with the database when it connects (its own loop and
    # thread): wait until the seeded active channels are there, then forget that nudge.
    for _ in range(250):
        status = await kv.status()
        if status.values >= 2:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    while not nudges.items.empty():
        nudges.items.get_nowait()
    yield client, kv, nudges
    await sub.unsubscribe()


async def test_adding_a_channel_writes_db_and_kv_and_tells_ingestors(admin, sql):
    """POST /api/channels: 201, an active row, the KV key, and a `changed` nudge."""
    client, kv, nudges = admin
    response = await client.post("/api/channels", json={"name": "#NewChan"}, headers=AUTH)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["isActive"], body["messageCount"]) == ("newchan", True, 0)
    assert (await kv.get("newchan")).value == CHANNEL_KV_VALUE
    assert (await nudges.next()).action == "changed"
    rows = await sql("SELECT is_active FROM channels WHERE login = 'newchan'")
    assert rows[0]["is_active"] is True
    again = await client.post("/api/channels", json={"name": "newchan"}, headers=AUTH)
    assert again.status_code == 200


async def test_deactivating_and_reactivating(admin, sql):
    """PATCH isActive false removes the KV key; true (or the seed's is_active) puts it back."""
    client, kv, nudges = admin
    off = await client.patch("/api/channels/alpha", json={"isActive": False}, headers=AUTH)
    assert off.status_code == 200
    assert off.json()["isActive"] is False
    with pytest.raises(KeyNotFoundError):
        await kv.get("alpha")
    assert (await nudges.next()).action == "changed"
    on = await client.patch("/api/channels/alpha", json={"is_active": True}, headers=AUTH)
    assert on.json()["isActive"] is True
    assert (await kv.get("alpha")).value == CHANNEL_KV_VALUE


async def test_delete_is_soft(admin, sql):
    """DELETE deactivates and keeps the history."""
    client, kv, _ = admin
    response = await client.delete("/api/channels/beta", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["isActive"] is False
    assert response.json()["messageCount"] > 0
    with pytest.raises(KeyNotFoundError):
        await kv.get("beta")
    listed = (await client.get("/api/channels", params={"active": "false"})).json()
    assert {c["name"] for c in listed["channels"]} == {"beta", "gamma"}


async def test_rejoin_tells_the_owners(admin):
    """POST rejoin publishes {"action": "rejoin", "channel": ...} and answers 202."""
    client, _, nudges = admin
    response = await client.post("/api/channels/alpha/rejoin", headers=AUTH)
    assert response.status_code == 202
    assert response.json() == {"channel": "alpha", "action": "rejoin", "notified": True}
    nudge = await nudges.next()
    assert (nudge.action, nudge.channel) == ("rejoin", "alpha")


async def test_reconcile_adopts_seeded_keys_and_drops_inactive_ones(
    admin, sql, make_settings, make_client
):
    """On connect, keys an ingestor seeded join the database; inactive ones leave the bucket."""
    client, kv, _ = admin
    await kv.put("seeded_by_env", CHANNEL_KV_VALUE)
    await kv.put("gamma", CHANNEL_KV_VALUE)
    settings = client.app.state.ctx.settings
    async with make_client(settings) as second:
        await connected(second)
        for _ in range(250):
            rows = await sql("SELECT is_active FROM channels WHERE login = 'seeded_by_env'")
            if rows:
                break
            await asyncio.sleep(0.02)
        assert rows[0]["is_active"] is True
        for _ in range(250):
            try:
                await kv.get("gamma")
            except KeyNotFoundError:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("gamma (inactive) stayed in the bucket")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error", "word"),
    [
        pytest.param("POST", "/api/channels", {"name": "bad name"}, 400, "invalid_parameter",
                     "name", id="post:invalid-name"),
        pytest.param("POST", "/api/channels", {"name": "x" * 30}, 400, "invalid_parameter",
                     "name", id="post:too-long"),
        pytest.param("POST", "/api/channels", {}, 400, "invalid_parameter", "name",
                     id="post:missing-name"),
        pytest.param("PATCH", "/api/channels/alpha", {}, 400, "invalid_parameter", "isActive",
                     id="patch:missing"),
        pytest.param("PATCH", "/api/channels/alpha", {"isActive": "yes"}, 400,
                     "invalid_parameter", "isActive", id="patch:not-bool"),
        pytest.param("PATCH", "/api/channels/nope_nope", {"isActive": True}, 404, "not_found",
                     "name", id="patch:unknown"),
        pytest.param("DELETE", "/api/channels/nope_nope", None, 404, "not_found", "name",
                     id="delete:unknown"),
        pytest.param("POST", "/api/channels/nope_nope/rejoin", None, 404, "not_found", "name",
                     id="rejoin:unknown"),
        pytest.param("POST", "/api/channels/gamma/rejoin", None, 409, "conflict", "name",
                     id="rejoin:inactive"),
    ],
)  # fmt: skip
async def test_bad_requests_are_refused(admin, method, path, body, status, error, word):
    """Invalid names, missing fields, unknown and inactive channels get 4xx naming the input."""
    client, _, _ = admin
    response = await client.request(method, path, json=body, headers=AUTH)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert word in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer wrong"}, id="wrong-token"),
        pytest.param({"Authorization": "Basic czNjcmV0"}, id="wrong-scheme"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/channels"),
        ("PATCH", "/api/channels/alpha"),
        ("DELETE", "/api/channels/alpha"),
        ("POST", "/api/channels/alpha/rejoin"),
    ],
)
async def test_admin_needs_the_bearer_token(client, sql, method, path, headers):
    """Without the right bearer token every management endpoint answers 401 and changes nothing."""
    response = await client.request(
        method, path, json={"name": "x1", "isActive": False}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "www-authenticate" in response.headers
    rows = await sql("SELECT login FROM channels WHERE is_active ORDER BY 1")
    assert [r["login"] for r in rows] == ["alpha", "beta"]


async def test_admin_is_disabled_without_a_token(seed, make_settings, make_client):
    """With no ADMIN_TOKEN the endpoints say they are disabled (403), token or not."""
    async with make_client(make_settings(admin_token=None)) as client:
        response = await client.post("/api/channels", json={"name": "abc"}, headers=AUTH)
    assert response.status_code == 403
    assert response.json()["error"] == "admin_disabled"
    assert "ADMIN_TOKEN" in response.json()["detail"]


async def test_nats_down_is_a_503_after_the_database_write(seed, make_settings, make_client, sql):
    """With NATS unreachable the change is saved, and the answer says ingestors hear it later."""
    settings = make_settings(nats_url="nats://127.0.0.1:1")
    async with make_client(settings) as client:
        response = await client.post("/api/channels", json={"name": "later"}, headers=AUTH)
        ready = (await client.get("/readyz")).json()
    assert response.status_code == 503
    assert "NATS" in response.json()["detail"]
    assert ready["checks"]["nats"].startswith("down")
    rows = await sql("SELECT is_active FROM channels WHERE login = 'later'")
    assert rows[0]["is_active"] is True


def test_control_payloads_match_what_ingestors_read():
    """The payloads are the JSON the ingestors decode."""
    assert msgspec.json.decode(b'{"action":"rejoin","channel":"a"}') == {
        "action": "rejoin",
        "channel": "a",
    }
