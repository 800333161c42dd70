"""GET /api/usernotices: the stored notice is the live item, filters, cursor pages, errors."""

from __future__ import annotations

import time

import msgspec
import pytest

from archive_writer.rows import row_for
from archive_writer.store import Store
from twitch_archive.db import create_pool
from twitch_archive.events import UserNotice
from twitch_archive.views import usernotice_view

YESTERDAY_MS = int(time.time() * 1000) - 86_400_000


def notice(n: int, channel: tuple[str, str | None], notice_type: str, user: str) -> UserNotice:
    return UserNotice(
        id=f"notice-{n:03d}",
        channel=channel[0],
        channel_id=channel[1],
        ts=YESTERDAY_MS + n * 1000,
        notice_type=notice_type,
        user_id={"viewer_one": "501", "raider": "777"}[user],
        user_login=user,
        display_name=user.title(),
        text="hype" if notice_type == "resub" else None,
        system_msg=f"{user} did a {notice_type}",
        params={"cumulative-months": str(n)} if notice_type == "resub" else {"viewerCount": "42"},
    )


@pytest.fixture
async def notices(seed, pg_url) -> list[UserNotice]:
    """Twelve more notices over two channels and two kinds, stored by the writer's Store."""
    rooms = {m.channel: m.channel_id for m in seed.messages}
    made = [
        notice(n, ("alpha", rooms["alpha"]) if n % 3 else ("beta", rooms["beta"]),
               "resub" if n % 2 else "raid", "viewer_one" if n % 2 else "raider")
        for n in range(1, 13)
    ]  # fmt: skip
    pool = await create_pool(pg_url, max_size=1, application_name="api-tests")
    store = Store(pg_url, pool, timeout_s=30)
    try:
        rows = [row_for(event, seed.channels[event.channel])[1] for event in made]
        await store.write([], rows, [])
    finally:
        await store.close()
        await pool.close()
    return made


def wire(item: msgspec.Struct) -> object:
    return msgspec.json.decode(msgspec.json.encode(item))


async def test_a_stored_notice_is_the_live_item(client, notices):
    """Key for key what the live gateway sends for the same event."""
    body = (await client.get("/api/usernotices", params={"limit": 200})).json()
    listed = {item["id"]: item for item in body["usernotices"]}
    for event in notices:
        assert listed[event.id] == wire(usernotice_view(event))
    assert body["total"] == len(notices) + 1  # the seed's own resub
    assert body["totalIsExact"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "raid"}, lambda e: e.notice_type == "raid"),
        ({"channel": "beta"}, lambda e: e.channel == "beta"),
        ({"user": "raider"}, lambda e: e.user_login == "raider"),
        ({"user": "id:777", "channel": "alpha"},
         lambda e: e.user_id == "777" and e.channel == "alpha"),
    ],
)  # fmt: skip
async def test_filters(client, notices, params, expected):
    body = (await client.get("/api/usernotices", params={**params, "limit": 200})).json()
    got = {item["id"] for item in body["usernotices"]}
    assert got == {e.id for e in notices if expected(e)}


async def test_cursor_pages_walk_every_notice_once_newest_first(client, notices):
    seen: list[dict] = []
    cursor = None
    for _ in range(20):
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/usernotices", params=params)).json()
        seen.extend(page["usernotices"])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)) == len(notices) + 1
    times = [item["sentAt"] for item in seen]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"type": "no spaces"}, "type"),
        ({"channel": "nobody_here"}, "channel"),
        ({"user": "nobody_here"}, "user"),
        ({"since": "2030-01-01", "until": "2020-01-01"}, "since"),
        ({"cursor": "garbage"}, "cursor"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_parameters_are_named(client, params, parameter):
    response = await client.get("/api/usernotices", params=params)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"].startswith(parameter), response.json()
