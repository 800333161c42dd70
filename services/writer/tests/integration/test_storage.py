"""What the writer stores: every field of every event type, once, with deletions in both orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from twitch_archive.events import Badge, Emote

pytestmark = pytest.mark.timeout(60)


def at(ts: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ts)


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    from twitch_archive.db import init_connection

    conn = await asyncpg.connect(url)
    try:
        await init_connection(conn)
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_every_event_type_lands_with_every_field(kit, sample):
    """Messages, user notices and every kind of moderation action are stored field for field."""
    ev = kit.events
    full = ev.message(
        1,
        text="\x01ACTION dances\x01 no wait",
        is_action=True,
        badges=(Badge(name="subscriber", version="12"), Badge(name="premium", version="1")),
        badge_info=(Badge(name="subscriber", version="14"),),
        emotes=(Emote(id="25", start=0, end=4), Emote(id="1902", start=6, end=10)),
        color="#1E90FF",
        bits=100,
        first_msg=True,
        reply_parent_msg_id="parent-1",
        reply_parent_user_login="someone",
        source_channel_id="123456",
    )
    bare = ev.message(2, user_id=None, user_login=None, display_name=None, emotes=(), text="hi")
    notice = ev.notice(3, text=None)
    raid = ev.notice(
        4, notice_type="raid", text="come", params={"viewerCount": "42", "login": "raider"}
    )
    ban = ev.action("ban", 5, target_user_id="900002", target_user_login="viewer2", reason="spam")
    timeout = ev.action(
        "timeout", 6, target_user_id="900003", target_user_login="viewer3", duration_s=600
    )
    clear = ev.action("clear", 7)
    delete = ev.action(
        "delete", 8, target_user_login="viewer1", target_message_id=full.id, message_text="x"
    )
    await kit.publish([full, bare, notice, raid, ban, timeout, clear, delete])
    async with kit.writer() as app:
        await kit.wait_all_acked()
    assert app.exit_code == 0

    channel = (await fetch(kit.pg_url, "SELECT * FROM channels"))[0]
    assert (channel["login"], channel["twitch_id"]) == (ev.channel, ev.room)
    messages = {r["id"]: r for r in await fetch(kit.pg_url, "SELECT * FROM messages")}
    assert set(messages) == {full.id, bare.id}
    for event in (full, bare):
        row = messages[event.id]
        assert row["sent_at"] == at(event.ts)
        assert row["channel_id"] == channel["id"]
        for name in (
            "user_id", "user_login", "display_name", "text", "is_action", "color", "bits",
            "first_msg", "reply_parent_msg_id", "reply_parent_user_login", "source_channel_id",
        ):  # fmt: skip
            assert row[name] == getattr(event, name), name
        assert row["badges"] == [{"name": b.name, "version": b.version} for b in event.badges]
        assert row["badge_info"] == [
            {"name": b.name, "version": b.version} for b in event.badge_info
        ]
        assert row["emotes"] == [{"id": e.id, "start": e.start, "end": e.end} for e in event.emotes]
    assert messages[full.id]["deleted_at"] == at(delete.ts)
    assert messages[bare.id]["deleted_at"] is None

    notices = {r["id"]: r for r in await fetch(kit.pg_url, "SELECT * FROM usernotices")}
    for event in (notice, raid):
        row = notices[event.id]
        assert row["sent_at"] == at(event.ts)
        assert row["channel_id"] == channel["id"]
        for name in ("notice_type", "message_id", "user_id", "user_login", "display_name",
                     "text", "system_msg", "params"):  # fmt: skip
            assert row[name] == getattr(event, name), name

    actions = {r["id"]: r for r in await fetch(kit.pg_url, "SELECT * FROM mod_actions")}
    for event in (ban, timeout, clear, delete):
        row = actions[event.id]
        assert row["created_at"] == at(event.ts)
        assert row["channel_id"] == channel["id"]
        for name in ("action", "target_user_id", "target_user_login", "duration_s",
                     "target_message_id", "message_text", "moderator_id", "moderator_login",
                     "reason"):  # fmt: skip
            assert row[name] == getattr(event, name), name

    hourly = await fetch(
        kit.pg_url,
        "SELECT sum(messages) m, sum(usernotices) u, sum(mod_actions) a, sum(deletions) d,"
        " sum(bans) b, sum(timeouts) t FROM channel_hourly_stats",
    )
    assert tuple(hourly[0]) == (2, 2, 4, 1, 1, 1)
    user = (await fetch(kit.pg_url, "SELECT * FROM users WHERE id = $1", full.user_id))[0]
    assert (user["login"], user["display_name"], user["message_count"]) == (
        full.user_login, full.display_name, 1,
    )  # fmt: skip
    stats = await fetch(kit.pg_url, "SELECT * FROM user_channel_stats")
    assert [(r["user_id"], r["messages"]) for r in stats] == [(full.user_id, 1)]
    assert sample(app, "archive_writer_rows_inserted_total", table="messages") == 2


async def test_the_same_events_published_twice_are_stored_once(kit, sample):
    """Copies that JetStream did not drop (other Nats-Msg-Id) are ignored and counted."""
    events = kit.events.mixed(600)
    await kit.publish(events)
    await kit.publish(events, msg_id_suffix=":copy")
    async with kit.writer() as app:
        await kit.wait_all_acked()
        inserted = sum(
            sample(app, "archive_writer_rows_inserted_total", table=t)
            for t in ("messages", "usernotices", "mod_actions")
        )
        duplicates = sum(
            sample(app, "archive_writer_duplicates_total", table=t)
            for t in ("messages", "usernotices", "mod_actions")
        )
    assert (inserted, duplicates) == (600, 600)
    messages = sum(1 for e in events if type(e).__name__ == "Message")
    assert await kit.count("SELECT count(*) FROM messages") == messages
    assert await kit.count("SELECT sum(message_count) FROM users") == messages
    assert await kit.count("SELECT sum(messages) FROM channel_hourly_stats") == messages
    assert await kit.count("SELECT sum(messages) FROM user_channel_stats") == messages


async def test_the_same_events_later_in_another_run_are_still_duplicates(kit, sample):
    """A replay after the writer restarted (past any JetStream window) stores nothing new."""
    events = kit.events.messages(300)
    await kit.publish(events)
    async with kit.writer():
        await kit.wait_all_acked()
    await kit.publish(events, msg_id_suffix=":replay")
    async with kit.writer() as app:
        await kit.wait_all_acked()
        assert sample(app, "archive_writer_duplicates_total", table="messages") == 300
        assert sample(app, "archive_writer_rows_inserted_total", table="messages") == 0
    assert await kit.count("SELECT count(*) FROM messages") == 300


@pytest.mark.parametrize(
    "same_batch",
    [False, True],
    ids=["deletion-in-an-earlier-batch", "deletion-earlier-in-the-same-batch"],
)
async def test_a_deletion_before_its_message_stores_the_message_deleted(kit, same_batch):
    """CLEARMSG first, message later: the message is stored with deleted_at already set."""
    message = kit.events.message(10)
    delete = kit.events.action("delete", 20, target_message_id=message.id, message_text="bye")
    async with kit.writer() as app:
        await kit.publish([delete] if not same_batch else [delete, message])
        await kit.wait_all_acked()
        if not same_batch:
            await kit.publish([message])
            await kit.wait_all_acked()
    assert app.exit_code == 0
    rows = await fetch(kit.pg_url, "SELECT deleted_at FROM messages WHERE id = $1", message.id)
    assert rows[0]["deleted_at"] == at(delete.ts)
    assert await kit.count("SELECT sum(deletions) FROM channel_hourly_stats") == 1


async def test_a_deletion_after_its_message_marks_it_deleted(kit, sample):
    """Message first, CLEARMSG in a later batch: the stored message gets deleted_at."""
    message = kit.events.message(10)
    delete = kit.events.action("delete", 20, target_message_id=message.id)
    async with kit.writer() as app:
        await kit.publish([message])
        await kit.wait_all_acked()
        await kit.publish([delete])
        await kit.wait_all_acked()
        assert sample(app, "archive_writer_deletions_applied_total") == 1
    rows = await fetch(kit.pg_url, "SELECT deleted_at FROM messages WHERE id = $1", message.id)
    assert rows[0]["deleted_at"] == at(delete.ts)


async def test_a_deletion_whose_message_committed_unseen_beside_it_is_applied_later(kit, sample):
    """A CLEARMSG whose message is in no committed row is queued; when that message commits in a
    batch that did not see the CLEARMSG (another store or replica), the writer applies it with
    the stream quiet. A queued deletion whose message never comes is dropped after ten minutes."""
    message = kit.events.message(10)
    delete = kit.events.action("delete", 20, target_message_id=message.id)
    conn = await asyncpg.connect(kit.pg_url)
    try:
        await conn.execute(
            "INSERT INTO deletions_pending (message_id, deleted_at, queued_at) "
            "VALUES ('never-stored', now(), now() - interval '11 minutes')"
        )
        async with kit.writer() as app:
            await kit.publish([delete])
            await kit.wait_all_acked()

            async def only_this_one_waits() -> bool:  # the expired one is dropped
                queued = await conn.fetch("SELECT message_id FROM deletions_pending")
                return [r["message_id"] for r in queued] == [message.id]

            await kit.until(only_this_one_waits, "the expired deletion to be dropped")
            # The message as a batch that did not see the CLEARMSG would have stored it.
            await conn.execute(
                "INSERT INTO messages (sent_at, channel_id, id, user_id, user_login, text) "
                "SELECT $1, c.id, $2, $3, $4, $5 FROM channels AS c WHERE c.login = $6",
                at(message.ts),
                message.id,
                message.user_id,
                message.user_login,
                message.text,
                message.channel,
            )

            async def applied() -> bool:
                return await kit.count("SELECT count(*) FROM deletions_pending") == 0

            await kit.until(applied, "the queued deletion to be applied")
            assert sample(app, "archive_writer_deletions_applied_total") == 1
        deleted_at = await conn.fetchval(
            "SELECT deleted_at FROM messages WHERE id = $1", message.id
        )
        assert deleted_at == at(delete.ts)
    finally:
        await conn.close()


async def test_a_new_login_for_a_known_user_goes_into_the_name_history(kit):
    """Same Twitch id, new login: users.login follows, user_names keeps both."""
    before = kit.events.message(1, user_id="4242", user_login="oldname", display_name="OldName")
    after = kit.events.message(2, user_id="4242", user_login="newname", display_name="NewName")
    async with kit.writer():
        await kit.publish([before])
        await kit.wait_all_acked()
        await kit.publish([after])
        await kit.wait_all_acked()
    user = (await fetch(kit.pg_url, "SELECT * FROM users WHERE id = '4242'"))[0]
    assert (user["login"], user["display_name"], user["message_count"]) == ("newname", "NewName", 2)
    names = await fetch(
        kit.pg_url, "SELECT login FROM user_names WHERE user_id = '4242' ORDER BY 1"
    )
    assert [r["login"] for r in names] == ["newname", "oldname"]


async def test_channels_are_upserted_by_room_id_and_login(kit):
    """A channel added by login gets its room id; a renamed room keeps its channel id."""
    conn = await asyncpg.connect(kit.pg_url)
    try:
        added = await conn.fetchval(
            "INSERT INTO channels (login) VALUES ($1) RETURNING id", kit.events.channel
        )
    finally:
        await conn.close()
    first = kit.events.message(1)
    renamed = kit.events.message(2, channel="renamed_" + kit.events.token)
    async with kit.writer():
        await kit.publish([first])
        await kit.wait_all_acked()
        await kit.publish([renamed])
        await kit.wait_all_acked()
    rows = await fetch(kit.pg_url, "SELECT id, login, twitch_id FROM channels")
    assert [tuple(r) for r in rows] == [(added, renamed.channel, kit.events.room)]
    assert await kit.count("SELECT count(DISTINCT channel_id) FROM messages") == 1


async def test_a_coverage_gap_is_recorded_once(kit, sample):
    """An ingestor's coverage gap lands in coverage_gaps, once however often it is delivered."""
    from twitch_archive.events import CoverageGap
    from twitch_archive.ids import derived_id

    ev = kit.events
    gap_from, gap_to = 1_732_406_400_000, 1_732_406_412_500
    gap = CoverageGap(
        id=derived_id("coverage_gap", ev.channel, gap_from, gap_to, "ingestor-1"),
        channel=ev.channel,
        channel_id=ev.room,
        ts=gap_to,
        gap_from=gap_from,
        gap_to=gap_to,
        reason="disconnected",
        ingestor_id="ingestor-1",
    )
    await kit.publish([gap, ev.message(1)])
    await kit.publish([gap], msg_id_suffix="again")
    async with kit.writer() as app:
        await kit.wait_all_acked()
    assert app.exit_code == 0
    rows = await fetch(kit.pg_url, "SELECT * FROM coverage_gaps")
    assert [(r["id"], r["channel"], r["reason"]) for r in rows] == [
        (gap.id, ev.channel, "disconnected")
    ]
    assert (rows[0]["gap_from"], rows[0]["gap_to"]) == (at(gap_from), at(gap_to))
