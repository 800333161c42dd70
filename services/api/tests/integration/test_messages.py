"""GET /api/messages, /search, /{id}, /{id}/context: filters, pages, cursors, totals, errors."""

from __future__ import annotations

import msgspec
import pytest

from archive_api.app import open_pool
from archive_api.queries import messages as q
from twitch_archive.views import message_view, mod_action_view

ALL_FIELDS = {
    "id", "channel", "channelId", "sentAt", "userId", "userLogin", "displayName", "text",
    "isAction", "badges", "badgeInfo", "emotes", "color", "bits", "firstMsg",
    "replyParentMsgId", "replyParentUserLogin", "sourceChannelId", "deleted", "deletedAt",
    "highlights",
}  # fmt: skip


async def walk(client, path: str, **params) -> list[dict]:
    """Follow nextCursor from the first page to the last; every message of every page."""
    seen: list[dict] = []
    cursor = None
    for _ in range(500):
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(page["messages"])
        cursor = page["nextCursor"]
        assert page["hasMore"] == (cursor is not None)
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


async def test_latest_messages_come_newest_first_in_the_seed_shape(client, seed):
    """The default page is the 50 newest non-deleted messages with the seed's camelCase keys."""
    body = (await client.get("/api/messages")).json()
    assert set(body) == {"messages", "total", "totalIsExact", "hasMore", "nextCursor"}
    assert len(body["messages"]) == 50
    assert body["hasMore"] is True
    assert set(body["messages"][0]) == ALL_FIELDS
    times = [m["sentAt"] for m in body["messages"]]
    assert times == sorted(times, reverse=True)
    assert not any(m["deleted"] for m in body["messages"])
    assert body["total"] == len(seed.messages) - len(seed.deleted)
    assert body["totalIsExact"] is True


async def test_message_fields_round_trip_from_the_event(client, seed):
    """A message carries the event's badges, emotes, color and names as stored."""
    kappa = next(m for m in seed.messages if m.text.endswith("Kappa"))
    body = (await client.get(f"/api/messages/{kappa.id}")).json()
    assert body["text"] == kappa.text
    assert body["channel"] == kappa.channel
    assert body["badges"] == [{"name": "subscriber", "version": "12"}]
    assert body["emotes"] == [{"id": "25", "start": 12, "end": 16}]
    assert body["userId"] == kappa.user_id
    assert body["color"] == "#1E90FF"


def on_the_wire(item: msgspec.Struct) -> object:
    return msgspec.json.decode(msgspec.json.encode(item))


async def test_items_are_what_the_live_feed_sends(client, seed):
    """A stored message and a stored mod action are, key for key, the item the live gateway
    builds from the same event (twitch_archive.views): one renderer serves both. channelId is
    the Twitch room id, never a database key."""
    live = on_the_wire(message_view(seed.messages[0]))
    stored = (await client.get(f"/api/messages/{seed.messages[0].id}")).json()
    assert stored == live
    assert stored["channelId"] == seed.messages[0].channel_id
    action = next(a for a in seed.actions if a.action == "ban")
    listed = (await client.get("/api/mod-actions", params={"type": "ban"})).json()["modActions"]
    stored_action = next(a for a in listed if a["id"] == action.id)
    assert stored_action == on_the_wire(mod_action_view(action))


@pytest.mark.parametrize("order", ["desc", "asc"])
async def test_cursor_pagination_walks_every_message_exactly_once(client, seed, order):
    """Following nextCursor with a small page returns each message once, in order."""
    seen = await walk(client, "/api/messages", limit=7, includeDeleted="true", order=order)
    ids = [m["id"] for m in seen]
    assert len(ids) == len(set(ids)) == len(seed.messages)
    times = [(m["sentAt"], m["id"]) for m in seen]
    assert times == sorted(times, reverse=order == "desc")


async def test_deeper_pages_keep_the_first_pages_total(client, seed):
    """The total counted for the first page travels in the cursor."""
    first = (await client.get("/api/messages", params={"limit": 5})).json()
    second = (
        await client.get("/api/messages", params={"limit": 5, "cursor": first["nextCursor"]})
    ).json()
    assert second["total"] == first["total"]
    assert {m["id"] for m in first["messages"]}.isdisjoint(m["id"] for m in second["messages"])


async def test_offset_pages_follow_each_other(client):
    """offset skips rows like the seed's pagination."""
    whole = (await client.get("/api/messages", params={"limit": 20})).json()["messages"]
    second = (await client.get("/api/messages", params={"limit": 10, "offset": 10})).json()
    assert [m["id"] for m in second["messages"]] == [m["id"] for m in whole[10:20]]


async def test_total_is_capped_and_says_so(seed, make_settings, make_client):
    """Beyond TOTAL_COUNT_CAP the total stops at the cap and totalIsExact is false."""
    async with make_client(make_settings(total_count_cap=10)) as client:
        body = (await client.get("/api/messages", params={"limit": 5})).json()
    assert (body["total"], body["totalIsExact"]) == (10, False)


async def test_channel_user_and_time_filters_combine(client, seed):
    """channel, user, since and until narrow the list together."""
    alpha = [m for m in seed.messages if m.channel == "alpha" and m.user_id == "501"]
    alpha = [m for m in alpha if m.id not in seed.deleted]
    middle = sorted(m.ts for m in alpha)[len(alpha) // 2]
    body = (
        await client.get(
            "/api/messages",
            params={"channel": "alpha", "user": "viewer_one", "since": str(middle), "limit": 200},
        )
    ).json()
    expected = {m.id for m in alpha if m.ts >= middle}
    assert {m["id"] for m in body["messages"]} == expected
    until = (
        await client.get(
            "/api/messages",
            params={"channel": "#Alpha", "user": "id:501", "until": str(middle), "limit": 200},
        )
    ).json()
    assert {m["id"] for m in until["messages"]} == {m.id for m in alpha if m.ts < middle}


async def test_iso_times_are_accepted(client, seed):
    """since/until take ISO 8601 with or without a zone."""
    response = await client.get(
        "/api/messages", params={"since": "2000-01-01", "until": "2999-01-01T00:00:00Z"}
    )
    assert response.status_code == 200
    assert response.json()["total"] == len(seed.messages) - len(seed.deleted)


async def test_deleted_messages_are_opt_in_or_alone(client, seed):
    """includeDeleted adds deleted messages; deletedOnly lists only them, with deletedAt."""
    included = (await client.get("/api/messages", params={"includeDeleted": "true"})).json()
    assert included["total"] == len(seed.messages)
    only = (await client.get("/api/messages", params={"deletedOnly": "true"})).json()
    assert {m["id"] for m in only["messages"]} == seed.deleted
    assert all(m["deleted"] and m["deletedAt"] for m in only["messages"])


async def test_a_renamed_user_is_found_by_both_names(client, seed):
    """user=old_name and user=new_name are the same Twitch id, so the same history."""
    old = (await client.get("/api/messages", params={"user": "old_name", "limit": 200})).json()
    new = (await client.get("/api/messages", params={"user": "new_name", "limit": 200})).json()
    assert old["messages"] == new["messages"]
    assert {m["userLogin"] for m in old["messages"]} == {"old_name", "new_name"}


async def test_search_marks_the_matched_words(client, seed):
    """Search returns matches newest first with code point ranges of each matched word."""
    body = (await client.get("/api/messages/search", params={"q": "LOL"})).json()
    assert body["messages"]
    for message in body["messages"]:
        words = [message["text"][h["start"] : h["end"]] for h in message["highlights"]]
        assert words
        assert all(w.lower() == "lol" for w in words)
    emoji = next(m for m in body["messages"] if "😂" in m["text"])
    assert emoji["highlights"] == [{"start": 15, "end": 18}]  # 😂 is one code point


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        pytest.param("привет", "привет мир", id="cyrillic"),
        pytest.param("世界", "こんにちは 世界", id="japanese"),
        pytest.param("schön", "danke schön", id="german"),
        pytest.param('"that was close"', "that was close", id="phrase"),
        pytest.param("amigo", "Hola amigo", id="punctuation"),
    ],
)
async def test_search_works_across_languages(client, query, needle):
    """Words of any script are found (the 'simple' configuration: words, not stems)."""
    body = (await client.get("/api/messages/search", params={"q": query, "limit": 5})).json()
    assert body["messages"]
    assert all(needle in m["text"] for m in body["messages"])


async def test_search_excludes_negated_words_and_filters(client, seed):
    """`-word` excludes, and channel/user filters apply to search."""
    body = (
        await client.get(
            "/api/messages/search",
            params={"q": "lol -happy", "channel": "beta", "user": "viewer_one", "limit": 100},
        )
    ).json()
    assert body["messages"]
    assert all("happy" not in m["text"] and m["channel"] == "beta" for m in body["messages"])
    assert all(m["userLogin"] == "viewer_one" for m in body["messages"])


async def test_search_cursor_walks_every_match_once(client, seed):
    """Search pages by cursor too, and meets every match exactly once."""
    seen = await walk(client, "/api/messages/search", q="lol", limit=3)
    expected = [m for m in seed.messages if "lol" in m.text.lower() and m.id not in seed.deleted]
    assert sorted(m["id"] for m in seen) == sorted(m.id for m in expected)


async def test_search_through_the_list_endpoint(client):
    """GET /api/messages?search= is the same search."""
    listed = (await client.get("/api/messages", params={"search": "gg"})).json()
    searched = (await client.get("/api/messages/search", params={"q": "gg"})).json()
    assert [m["id"] for m in listed["messages"]] == [m["id"] for m in searched["messages"]]


async def test_pages_keep_one_generic_plan_and_search_is_planned_each_time(
    client, seed, make_settings
):
    """Keyset pages run on the generic-plan pool (planning a year of partitions costs more than
    reading the page), search on the custom-plan pool (its plan depends on the words)."""
    statements = "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
    settings = make_settings()
    pages, planned = await open_pool(settings, "generic"), await open_pool(settings, "custom")
    try:
        channel_id = await pages.fetchval("SELECT id FROM channels WHERE login = 'alpha'")
        f = q.MessageFilter(channel_id=channel_id)
        sql, args = q.page_sql(f, "desc", None, 51, 0)
        assert sql.endswith(" LIMIT 51")  # a literal: see Where.limit_sql
        assert len(args) == 1
        async with pages.acquire() as conn:
            for _ in range(3):
                assert len(await q.page(conn, f, "desc", None, 51)) == 51
            plans = {r["statement"]: r for r in await conn.fetch(statements)}
        assert plans[sql]["generic_plans"] >= 3
        assert plans[sql]["custom_plans"] == 0
        bounds = await q.data_bounds(planned)
        async with planned.acquire() as conn:
            for _ in range(3):
                rows, _windows = await q.search(
                    conn, q.MessageFilter(query="gg"), "desc", None, 10, bounds, 100.0
                )
                assert rows
            plans = {r["statement"]: r for r in await conn.fetch(statements)}
    finally:
        await pages.close()
        await planned.close()
    searches = [r for text, r in plans.items() if "websearch_to_tsquery" in text]
    assert searches
    assert all(r["generic_plans"] == 0 for r in searches)
    assert sum(r["custom_plans"] for r in searches) >= 3
    metrics = (await client.get("/metrics")).text
    assert 'archive_api_db_pool_size{plans="generic"}' in metrics
    assert 'archive_api_db_pool_size{plans="custom"}' in metrics


async def test_a_word_found_nowhere_is_looked_up_not_scanned_for(client, seed, make_settings):
    """After an empty window, the next windows gather their matches before sorting (no LIMIT
    under which PostgreSQL would read the whole window newest first hoping to stop early)."""
    pool = await open_pool(make_settings(), "custom")
    sent: list[str] = []

    class Recording:
        async def fetch(self, sql: str, *args: object) -> list:
            sent.append(sql)
            return list(await pool.fetch(sql, *args))

    try:
        bounds = await q.data_bounds(pool)
        f = q.MessageFilter(query="nowhereatall")
        per_hour = await q.hourly_rate(pool, None, bounds[1])
        rows, windows = await q.search(Recording(), f, "desc", None, 51, bounds, per_hour)
    finally:
        await pool.close()
    assert rows == []
    assert windows == len(sent) > 1
    assert "MATERIALIZED" not in sent[0]
    assert all("MATERIALIZED" in sql for sql in sent[1:])
    body = (await client.get("/api/messages/search", params={"q": "nowhereatall"})).json()
    assert body["messages"] == []
    assert body["total"] == 0


async def test_context_shows_the_lines_around_a_message(client, seed):
    """Context returns the N messages before and after, deleted ones included, oldest first."""
    alpha = sorted((m for m in seed.messages if m.channel == "alpha"), key=lambda m: m.ts)
    target = alpha[41]
    body = (
        await client.get(f"/api/messages/{target.id}/context", params={"before": 3, "after": 2})
    ).json()
    assert body["message"]["id"] == target.id
    assert [m["id"] for m in body["before"]] == [m.id for m in alpha[38:41]]
    assert [m["id"] for m in body["after"]] == [m.id for m in alpha[42:44]]
    assert body["before"][-1]["deleted"] is True  # alpha[40] was deleted


async def test_ndjson_export_streams_every_match(client, seed):
    """format=ndjson streams one JSON message per line, all of them (no page limit)."""
    response = await client.get("/api/messages", params={"format": "ndjson", "channel": "alpha"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = response.text.strip().split("\n")
    expected = [m for m in seed.messages if m.channel == "alpha" and m.id not in seed.deleted]
    assert len(lines) == len(expected)


async def test_csv_export_by_accept_header(client, seed):
    """Accept: text/csv gives a CSV with a header row and one row per message."""
    response = await client.get("/api/users/viewer_one/messages", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = response.text.strip().split("\n")
    assert rows[0].startswith("id,channel,sent_at,user_id")
    expected = [m for m in seed.messages if m.user_id == "501" and m.id not in seed.deleted]
    assert len(rows) == len(expected) + 1


async def test_search_export_keeps_highlights(client):
    """An NDJSON search export carries the highlights too."""
    response = await client.get("/api/messages/search", params={"q": "gg", "format": "ndjson"})
    first = response.text.split("\n")[0]
    assert '"highlights":[{"start"' in first


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        pytest.param("/api/messages", {"limit": "0"}, 400, "limit", id="limit:0"),
        pytest.param("/api/messages", {"limit": "5000"}, 400, "limit", id="limit:too-big"),
        pytest.param("/api/messages", {"limit": "ten"}, 400, "limit", id="limit:not-a-number"),
        pytest.param("/api/messages", {"offset": "-1"}, 400, "offset", id="offset:negative"),
        pytest.param("/api/messages", {"offset": "999999"}, 400, "offset", id="offset:too-deep"),
        pytest.param("/api/messages", {"since": "yesterday"}, 400, "since", id="since:garbage"),
        pytest.param("/api/messages", {"until": "2024-13-45"}, 400, "until", id="until:bad-date"),
        pytest.param(
            "/api/messages",
            {"since": "2024-02-01", "until": "2024-01-01"},
            400,
            "since",
            id="since-after-until",
        ),
        pytest.param("/api/messages", {"cursor": "not-a-cursor"}, 400, "cursor", id="cursor:junk"),
        pytest.param(
            "/api/messages", {"channel": "nope_nope"}, 404, "channel", id="channel:unknown"
        ),
        pytest.param(
            "/api/messages", {"channel": "bad name!"}, 400, "channel", id="channel:invalid"
        ),
        pytest.param("/api/messages", {"user": "nobody_here"}, 404, "user", id="user:unknown"),
        pytest.param("/api/messages", {"user": "id:"}, 400, "user", id="user:empty-id"),
        pytest.param("/api/messages", {"order": "sideways"}, 400, "order", id="order:unknown"),
        pytest.param("/api/messages", {"format": "xml"}, 400, "format", id="format:unknown"),
        pytest.param(
            "/api/messages", {"includeDeleted": "maybe"}, 400, "includeDeleted", id="bool:junk"
        ),
        pytest.param("/api/messages/search", {}, 400, "q", id="q:missing"),
        pytest.param("/api/messages/search", {"q": "!!! ..."}, 400, "q", id="q:no-words"),
        pytest.param("/api/messages/search", {"q": "x" * 300}, 400, "q", id="q:too-long"),
        pytest.param("/api/messages/nope-id", {}, 404, "id", id="message:unknown"),
        pytest.param("/api/messages/nope-id/context", {}, 404, "id", id="context:unknown"),
        pytest.param(
            "/api/messages/nope-id/context", {"before": "500"}, 400, "before", id="before:too-big"
        ),
    ],
)
async def test_bad_input_gets_a_4xx_naming_the_parameter(client, path, params, status, parameter):
    """Every bad parameter answers {error, detail} with a 4xx whose detail names it."""
    response = await client.get(path, params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert parameter in body["detail"]


async def test_a_cursor_of_another_endpoint_is_refused(client):
    """A users cursor given to messages is a 400 on `cursor`."""
    users = (await client.get("/api/users", params={"limit": 1})).json()
    response = await client.get("/api/messages", params={"cursor": users["nextCursor"]})
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


async def test_cursor_and_offset_together_are_refused(client):
    """offset with cursor is ambiguous: 400 on offset."""
    first = (await client.get("/api/messages", params={"limit": 2})).json()
    response = await client.get(
        "/api/messages", params={"cursor": first["nextCursor"], "offset": 3}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("offset")
