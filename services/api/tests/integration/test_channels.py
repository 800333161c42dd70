"""Channels (list, one, stats, gaps) and the /api/stats overview."""

from __future__ import annotations

import pytest


async def test_channels_with_message_counts_and_active_filter(client, seed):
    """All channels with message counts; active=true/false filters the desired set."""
    body = (await client.get("/api/channels")).json()
    counts = {c["name"]: c["messageCount"] for c in body["channels"]}
    expected = {name: sum(1 for m in seed.messages if m.channel == name) for name in counts}
    assert counts == expected
    assert set(counts) == {"alpha", "beta", "gamma"}
    active = (await client.get("/api/channels", params={"active": "true"})).json()
    assert {c["name"] for c in active["channels"]} == {"alpha", "beta"}
    inactive = (await client.get("/api/channels", params={"active": "false"})).json()
    assert [c["name"] for c in inactive["channels"]] == ["gamma"]


async def test_channel_detail_has_totals_and_open_gaps(client, seed):
    """One channel: all-time totals from the rollups and its open coverage gaps."""
    body = (await client.get("/api/channels/Alpha")).json()
    assert body["channel"]["name"] == "alpha"
    assert body["channel"]["twitchId"] == "1001"
    totals = body["totals"]
    assert totals["messages"] == sum(1 for m in seed.messages if m.channel == "alpha")
    assert (totals["bans"], totals["deletions"], totals["usernotices"]) == (1, 3, 1)
    assert totals["chatters"] == 4
    assert [g["id"] for g in body["openGaps"]] == ["gap-2"]


async def test_channel_stats_over_a_range(client, seed):
    """Stats over since/until: totals, exact active users and messages per hour or day."""
    body = (await client.get("/api/channels/alpha/stats", params={"since": "2000-01-01"})).json()
    alpha = [m for m in seed.messages if m.channel == "alpha"]
    assert body["totals"]["messages"] == len(alpha)
    assert body["activeUsers"] == len({m.user_id for m in alpha})
    assert body["activeUsersIsExact"] is True
    assert body["interval"] == "day"
    assert sum(b["messages"] for b in body["series"]) == len(alpha)
    week = (await client.get("/api/channels/alpha/stats")).json()
    assert week["interval"] == "hour"


async def test_gaps_of_a_channel(client):
    """/gaps lists coverage gaps newest first, open ones with a null end."""
    body = (await client.get("/api/channels/alpha/gaps")).json()
    assert [(g["id"], g["open"]) for g in body["gaps"]] == [("gap-2", True), ("gap-1", False)]
    page = (await client.get("/api/channels/alpha/gaps", params={"limit": 1})).json()
    rest = (
        await client.get("/api/channels/alpha/gaps", params={"cursor": page["nextCursor"]})
    ).json()
    assert [g["id"] for g in rest["gaps"]] == ["gap-1"]
    assert rest["total"] == 2


async def test_overview_for_the_home_page(client, seed):
    """/api/stats: totals, active channels, users, hourly series, top channels, ingest lag."""
    body = (await client.get("/api/stats", params={"hours": 48})).json()
    assert body["messagesTotal"] == len(seed.messages)
    assert body["modActionsTotal"] == len(seed.actions)
    assert (body["channelsTotal"], body["channelsActive"]) == (3, 2)
    assert body["usersTracked"] == 4
    assert body["openGaps"] == 1
    assert len(body["series"]) == 48
    assert body["newestMessageAt"] is not None
    assert body["ingestLagSeconds"] >= 0
    counts: dict[str, int] = {}
    for message in seed.messages:
        counts[message.user_id] = counts.get(message.user_id, 0) + 1
    assert body["topUsersSample"] == 5000
    top = [(u["userId"], u["messages"]) for u in body["topUsers"]]
    assert len(top) == min(10, len(counts))
    assert all(counts[user_id] == messages for user_id, messages in top)
    assert [m for _, m in top] == sorted(counts.values(), reverse=True)[: len(top)]


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        pytest.param("/api/channels/nope_nope", {}, 404, "name", id="unknown"),
        pytest.param("/api/channels/bad!name", {}, 400, "name", id="invalid"),
        pytest.param("/api/channels/nope_nope/stats", {}, 404, "name", id="stats-unknown"),
        pytest.param("/api/channels/nope_nope/gaps", {}, 404, "name", id="gaps-unknown"),
        pytest.param("/api/channels", {"active": "sometimes"}, 400, "active", id="active"),
        pytest.param(
            "/api/channels/alpha/stats",
            {"since": "2024-02-01", "until": "2024-01-01"},
            400,
            "since",
            id="since-after-until",
        ),
        pytest.param("/api/channels/alpha/gaps", {"cursor": "xx"}, 400, "cursor", id="gap-cursor"),
        pytest.param("/api/stats", {"hours": "0"}, 400, "hours", id="hours:0"),
        pytest.param("/api/stats", {"hours": "10000"}, 400, "hours", id="hours:too-many"),
    ],
)
async def test_bad_input_gets_a_4xx_naming_the_parameter(client, path, params, status, parameter):
    """Unknown channels are 404, bad parameters 400, each naming the parameter."""
    response = await client.get(path, params=params)
    assert response.status_code == status, response.text
    assert parameter in response.json()["detail"]
