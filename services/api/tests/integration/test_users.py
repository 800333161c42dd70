"""GET /api/users and /api/users/{username}[/messages|/mod-actions|/stats|/names]."""

from __future__ import annotations

import pytest


async def test_users_list_by_login_with_prefix_search(client):
    """Users come in login order; search keeps logins starting with it (case-insensitive)."""
    body = (await client.get("/api/users")).json()
    logins = [u["login"] for u in body["users"]]
    assert logins == sorted(logins)
    assert set(logins) == {"viewer_one", "viewer_two", "chatter", "new_name"}
    assert body["total"] == 4
    assert body["totalIsExact"] is True
    found = (await client.get("/api/users", params={"search": "VIEWER_"})).json()
    assert [u["login"] for u in found["users"]] == ["viewer_one", "viewer_two"]


async def test_users_of_a_channel_most_recent_first_with_their_counts(client, sql):
    """channel= lists that channel's chatters with their message count there."""
    body = (await client.get("/api/users", params={"channel": "beta"})).json()
    rows = await sql(
        "SELECT user_id, messages FROM user_channel_stats s JOIN channels c ON c.id = "
        "s.channel_id WHERE c.login = 'beta' ORDER BY s.last_seen_at DESC, s.user_id DESC"
    )
    assert [(u["id"], u["channelMessageCount"]) for u in body["users"]] == [
        (r["user_id"], r["messages"]) for r in rows
    ]


@pytest.mark.parametrize("channel", [None, "alpha"], ids=["by-login", "by-channel"])
async def test_users_cursor_walks_every_user_once(client, channel):
    """Following nextCursor one user at a time meets every user exactly once."""
    params = {"limit": 1, **({"channel": channel} if channel else {})}
    seen, cursor = [], None
    for _ in range(20):
        page = (
            await client.get(
                "/api/users", params={**params, **({"cursor": cursor} if cursor else {})}
            )
        ).json()
        seen += [u["id"] for u in page["users"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4


async def test_profile_has_counts_channels_and_past_logins(client, seed):
    """A profile: message count, first and last seen, channels, previous logins."""
    body = (await client.get("/api/users/old_name")).json()
    mine = [m for m in seed.messages if m.user_id == "503"]
    assert body["id"] == "503"
    assert body["login"] == "new_name"
    assert body["previousLogins"] == ["old_name"]
    assert body["messageCount"] == len(mine)
    assert {c["channel"] for c in body["channels"]} == {m.channel for m in mine}
    assert body["channelCount"] == len(body["channels"])
    assert body["firstSeen"] <= body["lastSeen"]


async def test_lookup_by_twitch_id(client):
    """id:<twitch id> finds the same user as the login."""
    by_id = (await client.get("/api/users/id:501")).json()
    by_login = (await client.get("/api/users/viewer_one")).json()
    assert by_id == by_login


async def test_a_user_who_never_renamed_has_one_name(client, seed):
    """/names of a user with one login lists that login, current, over the time they chatted."""
    body = (await client.get("/api/users/viewer_one/names")).json()
    assert [(n["login"], n["current"]) for n in body["names"]] == [("viewer_one", True)]
    profile = (await client.get("/api/users/viewer_one")).json()
    assert body["names"][0]["firstSeen"] == profile["firstSeen"]
    assert body["names"][0]["lastSeen"] == profile["lastSeen"]


async def test_names_history(client):
    """/names lists every login of the id, newest first, marking the current one."""
    body = (await client.get("/api/users/new_name/names")).json()
    assert [(n["login"], n["current"]) for n in body["names"]] == [
        ("new_name", True),
        ("old_name", False),
    ]


async def test_user_messages_across_every_channel(client, seed):
    """/messages returns the user's messages of all channels in one list, or one channel's."""
    body = (await client.get("/api/users/viewer_one/messages", params={"limit": 500})).json()
    mine = [m for m in seed.messages if m.user_id == "501" and m.id not in seed.deleted]
    assert {m["id"] for m in body["messages"]} == {m.id for m in mine}
    assert {m["channel"] for m in body["messages"]} == {"alpha", "beta", "gamma"}
    beta = (await client.get("/api/users/viewer_one/messages", params={"channel": "beta"})).json()
    assert {m["channel"] for m in beta["messages"]} == {"beta"}


async def test_user_mod_actions_and_stats(client, seed):
    """Actions against a user, by id and (for deletions) by login; stats count them."""
    actions = (await client.get("/api/users/viewer_one/mod-actions")).json()
    kinds = sorted(a["action"] for a in actions["modActions"])
    deleted_of_one = sum(
        1 for m in seed.messages if m.id in seed.deleted and m.user_login == "viewer_one"
    )
    assert kinds == sorted(["timeout", "timeout"] + ["delete"] * deleted_of_one)
    stats = (await client.get("/api/users/viewer_one/stats")).json()
    assert (stats["timeouts"], stats["bans"]) == (2, 0)
    assert stats["deletions"] == deleted_of_one
    assert stats["timeoutSecondsTotal"] == 660
    assert stats["channelsActive"] == 3
    two = (await client.get("/api/users/viewer_two/stats")).json()
    assert (two["bans"], two["unbans"]) == (1, 1)
    assert two["lastBanAt"] is not None
    filtered = (
        await client.get("/api/users/viewer_one/mod-actions", params={"type": "timeout"})
    ).json()
    assert {a["action"] for a in filtered["modActions"]} == {"timeout"}


@pytest.mark.parametrize("order", ["desc", "asc"])
async def test_user_mod_actions_page_by_cursor_in_order(client, order):
    """By id and by login merge into one ordered list: pages of one, by cursor or offset, walk
    the same actions as one big page, each once."""
    path = "/api/users/viewer_one/mod-actions"
    whole = (await client.get(path, params={"order": order, "limit": 100})).json()["modActions"]
    assert len(whole) >= 3
    walked, cursor = [], None
    for _ in range(len(whole) + 1):
        params = {"order": order, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(path, params=params)).json()
        walked += page["modActions"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert [a["id"] for a in walked] == [a["id"] for a in whole]
    by_offset = (await client.get(path, params={"order": order, "limit": 2, "offset": 1})).json()
    assert [a["id"] for a in by_offset["modActions"]] == [a["id"] for a in whole[1:3]]
    times = [a["createdAt"] for a in whole]
    assert times == sorted(times, reverse=order == "desc")


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        pytest.param("/api/users/nobody_at_all", {}, 404, "username", id="unknown-login"),
        pytest.param("/api/users/id:999999", {}, 404, "username", id="unknown-id"),
        pytest.param("/api/users/not a login!", {}, 400, "username", id="invalid-login"),
        pytest.param("/api/users/nobody_at_all/stats", {}, 404, "username", id="stats-unknown"),
        pytest.param("/api/users/nobody_at_all/names", {}, 404, "username", id="names-unknown"),
        pytest.param("/api/users", {"search": "no spaces"}, 400, "search", id="search-invalid"),
        pytest.param("/api/users", {"channel": "nope_nope"}, 404, "channel", id="channel-unknown"),
        pytest.param("/api/users", {"limit": "0"}, 400, "limit", id="limit:0"),
        pytest.param("/api/users", {"cursor": "AAAA"}, 400, "cursor", id="cursor:junk"),
        pytest.param(
            "/api/users/viewer_one/mod-actions", {"type": "b@n"}, 400, "type", id="type-invalid"
        ),
        pytest.param(
            "/api/users/viewer_one/messages", {"since": "soon"}, 400, "since", id="since-invalid"
        ),
    ],
)
async def test_bad_input_gets_a_4xx_naming_the_parameter(client, path, params, status, parameter):
    """Unknown users are 404, malformed input 400, and the detail names the parameter."""
    response = await client.get(path, params=params)
    assert response.status_code == status, response.text
    assert parameter in response.json()["detail"]
