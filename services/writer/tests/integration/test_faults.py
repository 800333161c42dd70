"""Faults lose nothing and duplicate nothing: PostgreSQL cut, SIGKILL, replicas, SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import pytest

from twitch_archive.events import Message

pytestmark = pytest.mark.timeout(60)


async def archive_matches(kit, events) -> None:
    """The archive holds exactly the published events, once each, and rollups agree."""
    by_table = {"messages": set(), "usernotices": set(), "mod_actions": set()}
    tables = {"Message": "messages", "UserNotice": "usernotices", "ModAction": "mod_actions"}
    for event in events:
        by_table[tables[type(event).__name__]].add(event.id)
    conn_rows = {}
    import asyncpg

    conn = await asyncpg.connect(kit.pg_url)
    try:
        for table in by_table:
            conn_rows[table] = [r["id"] for r in await conn.fetch(f"SELECT id FROM {table}")]
        messages = len(by_table["messages"])
        assert await conn.fetchval("SELECT sum(message_count) FROM users") == messages
        assert await conn.fetchval("SELECT sum(messages) FROM channel_hourly_stats") == messages
        assert await conn.fetchval("SELECT sum(messages) FROM user_channel_stats") == messages
        assert await conn.fetchval("SELECT sum(mod_actions) FROM channel_hourly_stats") == len(
            by_table["mod_actions"]
        )
        deleted = {e.target_message_id for e in events if getattr(e, "action", None) == "delete"}
        stored_deleted = {
            r["id"]
            for r in await conn.fetch("SELECT id FROM messages WHERE deleted_at IS NOT NULL")
        }
        assert stored_deleted == deleted
    finally:
        await conn.close()
    for table, ids in by_table.items():
        assert len(conn_rows[table]) == len(ids), f"{table}: duplicates or losses"
        assert set(conn_rows[table]) == ids, table


async def test_postgres_cut_mid_batch_and_restored_loses_and_duplicates_nothing(
    kit, tcp_proxy, sample
):
    """Batches in flight when PostgreSQL vanishes are retried and stored once it is back."""
    proxy = await tcp_proxy(kit.pg_url)
    settings = kit.settings(database_url=proxy.url_for(kit.pg_url), batch_max_events=1_000)
    events = kit.events.mixed(8_000)
    async with kit.writer(settings) as app:
        await kit.publish(events)

        async def some_stored() -> bool:
            return sample(app, "archive_writer_rows_inserted_total", table="messages") > 0

        await kit.until(some_stored, "some_stored")
        proxy.cut()

        async def retrying() -> bool:
            return (
                sum(
                    sample(app, "archive_writer_store_retries_total", reason=r)
                    for r in ("connection", "timeout", "server")
                )
                >= 2
            )

        await kit.until(retrying, "retrying")
        assert await kit.readyz(app.ops_port) == 503
        state = await kit.consumer_state()
        assert state is not None
        assert state[1] > 0  # held, not acked, while PostgreSQL is gone
        proxy.restore()
        await kit.wait_all_acked()
        assert await kit.readyz(app.ops_port) == 200
    assert app.exit_code == 0
    await archive_matches(kit, events)


async def test_readyz_says_not_ready_while_postgres_is_cut(kit, tcp_proxy):
    """/readyz answers 503 while PostgreSQL is unreachable and 200 again once it is back."""
    proxy = await tcp_proxy(kit.pg_url)
    async with kit.writer(kit.settings(database_url=proxy.url_for(kit.pg_url))) as app:
        assert await kit.readyz(app.ops_port) == 200
        proxy.cut()

        async def not_ready() -> bool:
            return await kit.readyz(app.ops_port) == 503

        await kit.until(not_ready, "not_ready")
        proxy.restore()

        async def ready() -> bool:
            return await kit.readyz(app.ops_port) == 200

        await kit.until(ready, "ready")


async def test_a_writer_killed_mid_stream_and_restarted_stores_everything_once(kit):
    """SIGKILL between commits and acks: the restarted process stores the rest, no duplicate."""
    events = kit.events.mixed(20_000)
    await kit.publish(events)
    async with kit.process(BATCH_MAX_EVENTS="1000") as first:

        async def some_stored() -> bool:
            return await kit.count("SELECT count(*) FROM messages") > 2_000

        await kit.until(some_stored, "some_stored")
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
    assert await kit.count("SELECT count(*) FROM messages") < 20_000
    # The killed process's deliveries come back after ack_wait: keep it short for the test.
    async with kit.process(BATCH_MAX_EVENTS="1000", ACK_WAIT_S="2") as second:
        await kit.wait_all_acked(within=45)
        second.send_signal(signal.SIGTERM)
        assert await second.wait() == 0
    await archive_matches(kit, events)


async def test_two_replicas_share_the_load_with_the_same_result(kit, sample):
    """Two writers on the one durable consumer both store batches; the archive is exact."""
    events = kit.events.mixed(20_000)
    settings = kit.settings(batch_max_events=500, fetch_batch=250)
    async with kit.writer(settings) as one, kit.writer(settings) as two:
        await kit.publish(events)
        await kit.wait_all_acked()
        shares = [
            sample(app, "archive_writer_rows_inserted_total", table="messages")
            for app in (one, two)
        ]
    assert all(share > 0 for share in shares), shares
    assert sum(shares) == sum(1 for e in events if isinstance(e, Message))
    await archive_matches(kit, events)


async def test_sigterm_flushes_the_open_batch_acks_and_exits_0(kit):
    """SIGTERM with a batch still open: it is stored and acked, and the process exits 0."""
    events = kit.events.messages(150)
    async with kit.process(BATCH_MAX_EVENTS="100000", BATCH_MAX_AGE_MS="60000") as proc:
        await kit.publish(events)

        async def all_held() -> bool:
            return await kit.consumer_state() == (0, 150)

        await kit.until(all_held, "all_held")
        assert await kit.count("SELECT count(*) FROM messages") == 0
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    await kit.wait_all_acked(within=5)  # the acks were sent before the exit; the server may lag
    await archive_matches(kit, events)
