"""GET /api/mod-actions, /recent, /stats."""

from __future__ import annotations

import pytest


async def test_actions_newest_first_with_every_field(client, seed):
    """Every action, newest first, with the seed's fields."""
    body = (await client.get("/api/mod-actions")).json()
    assert body["total"] == len(seed.actions)
    times = [a["createdAt"] for a in body["modActions"]]
    assert times == sorted(times, reverse=True)
    ban = next(a for a in body["modActions"] if a["action"] == "ban")
    assert (ban["targetUserLogin"], ban["reason"], ban["channel"]) == (
        "viewer_two",
        "spam",
        "alpha",
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"type": "timeout"}, {"timeout"}, id="type"),
        pytest.param({"channel": "beta"}, {"timeout"}, id="channel"),
        pytest.param({"moderator": "mod_a"}, {"timeout"}, id="moderator"),
        pytest.param({"target": "viewer_two"}, {"ban", "unban"}, id="target-login"),
        pytest.param({"target": "id:502"}, {"ban", "unban"}, id="target-id"),
        pytest.param({"target": "never_chatted"}, set(), id="target-unknown-login"),
    ],
)
async def test_filters(client, params, expected):
    """type, channel, moderator and target (login or id) filter the list."""
    body = (await client.get("/api/mod-actions", params=params)).json()
    assert {a["action"] for a in body["modActions"]} == expected


async def test_time_range_and_cursor(client, seed):
    """since/until bound the list and the cursor walks it once."""
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/mod-actions", params=params)).json()
        seen += [a["id"] for a in page["modActions"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(a.id for a in seed.actions)
    recent = (
        await client.get("/api/mod-actions", params={"since": str(seed.actions[-1].ts)})
    ).json()
    assert [a["action"] for a in recent["modActions"]] == ["clear"]


async def test_recent_is_at_most_100(client, seed):
    """/recent lists the newest actions, optionally of one channel."""
    body = (await client.get("/api/mod-actions/recent")).json()
    assert len(body["modActions"]) == len(seed.actions)
    beta = (await client.get("/api/mod-actions/recent", params={"channel": "beta"})).json()
    assert {a["channel"] for a in beta["modActions"]} == {"beta"}


async def test_stats_count_by_type_with_moderators_and_series(client, seed):
    """/stats: counts by type, known moderators and a per-hour series from the rollup."""
    body = (await client.get("/api/mod-actions/stats", params={"since": "2000-01-01"})).json()
    assert body["byType"] == {"delete": 3, "timeout": 2, "ban": 1, "unban": 1, "clear": 1}
    assert body["total"] == len(seed.actions)
    assert body["topModerators"] == [{"login": "mod_a", "actions": 1}]
    assert body["interval"] == "day"
    assert sum(b["bans"] for b in body["series"]) == 1
    hourly = (await client.get("/api/mod-actions/stats", params={"channel": "beta"})).json()
    assert hourly["interval"] == "hour"
    assert len(hourly["series"]) in (7 * 24, 7 * 24 + 1)  # a partial first hour counts
    assert hourly["byType"] == {"timeout": 2}


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        pytest.param("/api/mod-actions", {"type": "DROP TABLE"}, "type", id="type"),
        pytest.param("/api/mod-actions", {"moderator": "a b"}, "moderator", id="moderator"),
        pytest.param("/api/mod-actions", {"target": "bad target"}, "target", id="target"),
        pytest.param("/api/mod-actions", {"order": "up"}, "order", id="order"),
        pytest.param("/api/mod-actions/recent", {"limit": "101"}, "limit", id="recent-limit"),
        pytest.param("/api/mod-actions/stats", {"interval": "week"}, "interval", id="interval"),
        pytest.param(
            "/api/mod-actions/stats",
            {"since": "1990-01-01", "interval": "hour"},
            "interval",
            id="too-many-buckets",
        ),
        pytest.param("/api/mod-actions/stats", {"until": "then"}, "until", id="until"),
    ],
)
async def test_bad_input_gets_400_naming_the_parameter(client, path, params, parameter):
    """Malformed filters answer 400 naming the parameter."""
    response = await client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert parameter in response.json()["detail"]
