"""REST api under load: each endpoint with 50 concurrent clients, beside its bare-SQL floor.

Usage: uv run python bench/bench_api.py [--quick] [--duration S] [--concurrency N] [--only NAME]

Uses the benchmark database of bench/build_bench_db.py (built first if missing: 10,000,000
messages, or 1,000,000 with --quick), starts `python -m archive_api` on a free port with the
rate limit off, then drives each endpoint for 20 s (--quick: 5 s) from N keep-alive connections
(a minimal HTTP/1.1 client, so the load generator costs little of the 2 cores). The floor runs
the same SQL the endpoint runs on a cache miss (archive_api.queries) from N concurrent asyncpg
tasks, for the same time. Targets at 10 M: p95 <= 50 ms for lists, profiles and stats, <= 100 ms
for search, and p95 <= 2 x floor p95 + 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_bench_db import DEFAULT_SERVER, VARIANTS, ensure

from archive_api.pagination import encode_cursor, to_micros
from archive_api.queries import channels as cq
from archive_api.queries import messages as mq
from archive_api.queries import moderation as aq
from archive_api.queries import stats as sq
from archive_api.queries import users as uq
from twitch_archive.db import create_pool

Floor = Callable[[Any], Awaitable[Any]]


@dataclass
class Case:
    name: str
    path: str
    kind: str  # list | search | profile | stats
    floor: Floor
    plans: str = "custom"
    """The api's pool the endpoint's SQL runs on (app.open_pool), which the floor uses too."""


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def http_worker(port: int, path: str, stop_at: float, out: Result) -> None:
    """One keep-alive client: GET `path` back to back until `stop_at`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n\r\n".encode()
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            out.latencies.append(time.perf_counter() - started)
            out.requests += 1
            if status != 200:
                out.errors += 1
    finally:
        writer.close()


async def drive_http(port: int, path: str, concurrency: int, seconds: float) -> Result:
    out = Result(0, 0, seconds, [])
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(http_worker(port, path, stop_at, out) for _ in range(concurrency)))
    out.seconds = time.perf_counter() - started
    return out


async def drive_sql(pool: Any, floor: Floor, concurrency: int, seconds: float) -> Result:
    out = Result(0, 0, seconds, [])
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await floor(pool)
            out.latencies.append(time.perf_counter() - started)
            out.requests += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    out.seconds = time.perf_counter() - started
    return out


async def cases(pool: Any) -> list[Case]:
    """The endpoints, with parameters picked from the data (busy channel, heavy user, ...)."""
    busy = await pool.fetchrow(
        "SELECT c.id, c.login FROM channels c JOIN channel_hourly_stats h ON h.channel_id = c.id "
        "GROUP BY c.id ORDER BY sum(h.messages) DESC LIMIT 1"
    )
    mid = await pool.fetchrow(
        "SELECT c.id, c.login FROM channels c JOIN channel_hourly_stats h ON h.channel_id = c.id "
        "GROUP BY c.id ORDER BY sum(h.messages) DESC OFFSET 10 LIMIT 1"
    )
    heavy = await pool.fetchrow("SELECT id, login FROM users ORDER BY message_count DESC LIMIT 1")
    typical = await pool.fetchrow(
        "SELECT id, login FROM users WHERE message_count BETWEEN 40 AND 60 ORDER BY id LIMIT 1"
    )
    bounds = await mq.data_bounds(pool)
    assert bounds is not None
    deep_until = bounds[1] - timedelta(days=180)
    message = await pool.fetchrow(
        "SELECT id, sent_at, channel_id FROM messages WHERE channel_id = $1 AND sent_at < $2 "
        "ORDER BY sent_at DESC LIMIT 1",
        busy["id"],
        deep_until,
    )
    deep = await mq.page(pool, mq.MessageFilter(channel_id=busy["id"]), "desc", None, 1, 5000)
    cursor = encode_cursor("md", to_micros(deep[0]["sent_at"]), deep[0]["id"], 1000, 0)
    cap = 1000
    b, m, h, t = busy["id"], mid["id"], heavy["id"], typical["id"]
    key = (message["sent_at"], message["id"])
    week = (bounds[1] - timedelta(days=7), bounds[1])

    async def msg_list(db: Any, f: mq.MessageFilter, after: Any = None) -> None:
        rows = await mq.page(db, f, "desc", after, 51)
        if len(rows) > 50:
            await mq.count_capped(db, f, cap)

    rates = {c: await mq.hourly_rate(pool, c, bounds[1]) for c in (None, mid["id"])}

    async def msg_search(db: Any, f: mq.MessageFilter) -> None:
        await mq.lexemes(db, f.query or "")
        rows, _ = await mq.search(db, f, "desc", None, 51, bounds, rates[f.channel_id])
        if len(rows) > 50:
            await mq.count_capped(db, f, cap)

    async def user_profile(db: Any, login: str) -> None:
        user = await db.fetchrow("SELECT id FROM users WHERE login = $1", login)
        rows = await uq.channels_of(db, user["id"], 100)
        if len(rows) == 100:
            await uq.channel_count(db, user["id"])
        await uq.names(db, user["id"])

    async def user_names(db: Any, login: str) -> None:
        user = await db.fetchrow("SELECT id FROM users WHERE login = $1", login)
        await uq.names(db, user["id"])

    async def user_stats(db: Any, login: str) -> None:
        user = await db.fetchrow("SELECT id FROM users WHERE login = $1", login)
        names = [r["login"] for r in await uq.names(db, user["id"])]
        await uq.moderation_counts(db, user["id"], names)
        await uq.channels_of(db, user["id"], 10)

    async def actions(db: Any, f: aq.ActionFilter) -> None:
        rows = await aq.page(db, f, "desc", None, 51)
        if len(rows) > 50:
            await aq.count_capped(db, f, cap)

    async def mod_stats(db: Any) -> None:
        f = aq.ActionFilter(since=week[0], until=week[1])
        await aq.by_type(db, f)
        await aq.top_moderators(db, f, 10)
        await sq.series(db, None, week[0], week[1], "hour")

    async def channel_stats(db: Any) -> None:
        totals = await sq.range_totals(db, b, week[0], week[1])
        await sq.active_users(db, b, week[0], week[1], totals["messages"])
        await sq.series(db, b, week[0], week[1], "hour")

    async def overview(db: Any) -> None:
        await sq.overview_counts(db)
        await sq.channel_totals(db)
        await sq.series(db, None, week[1] - timedelta(hours=24), week[1], "hour")
        await sq.top_channels(db, week[1] - timedelta(hours=24), week[1], 10)

    bl, ml, hl, tl = busy["login"], mid["login"], heavy["login"], typical["login"]
    return [
        Case(
            "messages latest",
            "/api/messages",
            "list",
            lambda db: msg_list(db, mq.MessageFilter()),
            "generic",
        ),
        Case(
            "messages busy channel",
            f"/api/messages?channel={bl}",
            "list",
            lambda db: msg_list(db, mq.MessageFilter(channel_id=b)),
            "generic",
        ),
        Case(
            "messages deep cursor",
            f"/api/messages?channel={bl}&cursor={cursor}",
            "list",
            lambda db: msg_list(
                db, mq.MessageFilter(channel_id=b), (deep[0]["sent_at"], deep[0]["id"])
            ),
            "generic",
        ),
        Case(
            "messages mid channel",
            f"/api/messages?channel={ml}",
            "list",
            lambda db: msg_list(db, mq.MessageFilter(channel_id=m)),
            "generic",
        ),
        Case(
            "messages heavy user",
            f"/api/users/{hl}/messages",
            "list",
            lambda db: msg_list(db, mq.MessageFilter(user_id=h)),
            "generic",
        ),
        Case(
            "messages typical user",
            f"/api/messages?user={tl}",
            "list",
            lambda db: msg_list(db, mq.MessageFilter(user_id=t)),
            "generic",
        ),
        Case(
            "message by id",
            f"/api/messages/{message['id']}",
            "profile",
            lambda db: mq.by_id(db, message["id"]),
            "generic",
        ),
        Case(
            "message context",
            f"/api/messages/{message['id']}/context",
            "list",
            lambda db: _context(db, message["id"], message["channel_id"], key),
            "generic",
        ),
        Case(
            "search common word",
            "/api/messages/search?q=lol",
            "search",
            lambda db: msg_search(db, mq.MessageFilter(query="lol")),
        ),
        Case(
            "search rare word",
            "/api/messages/search?q=danke",
            "search",
            lambda db: msg_search(db, mq.MessageFilter(query="danke")),
        ),
        Case(
            "search word found nowhere",
            "/api/messages/search?q=nowhereatall",
            "search",
            lambda db: msg_search(db, mq.MessageFilter(query="nowhereatall")),
        ),
        Case(
            "search two words",
            "/api/messages/search?q=" + quote("hallo krass"),
            "search",
            lambda db: msg_search(db, mq.MessageFilter(query="hallo krass")),
        ),
        Case(
            "search in channel",
            f"/api/messages/search?q=gg&channel={ml}",
            "search",
            lambda db: msg_search(db, mq.MessageFilter(query="gg", channel_id=m)),
        ),
        Case(
            "users by prefix",
            "/api/users?search=cle",
            "list",
            lambda db: _users(db, "cle", None),
        ),
        Case(
            "users of channel",
            f"/api/users?channel={bl}",
            "list",
            lambda db: _users(db, None, b),
        ),
        Case("user profile", f"/api/users/{hl}", "profile", lambda db: user_profile(db, hl)),
        Case("user stats", f"/api/users/{hl}/stats", "stats", lambda db: user_stats(db, hl)),
        Case("user names", f"/api/users/{tl}/names", "profile", lambda db: user_names(db, tl)),
        Case(
            "user mod-actions",
            f"/api/users/{hl}/mod-actions",
            "list",
            lambda db: actions(db, aq.ActionFilter(target_id=h, target_logins=(hl,))),
        ),
        Case("mod-actions", "/api/mod-actions", "list", lambda db: actions(db, aq.ActionFilter())),
        Case(
            "mod-actions bans of channel",
            f"/api/mod-actions?type=ban&channel={bl}",
            "list",
            lambda db: actions(db, aq.ActionFilter(action="ban", channel_id=b)),
        ),
        Case(
            "mod-actions recent",
            "/api/mod-actions/recent",
            "list",
            lambda db: aq.page(db, aq.ActionFilter(), "desc", None, 100),
        ),
        Case("mod-actions stats", "/api/mod-actions/stats", "stats", mod_stats),
        Case("channels", "/api/channels", "list", _channels),
        Case("channel", f"/api/channels/{bl}", "profile", lambda db: _channel(db, bl, b)),
        Case("channel stats", f"/api/channels/{bl}/stats", "stats", channel_stats),
        Case(
            "channel gaps",
            f"/api/channels/{bl}/gaps",
            "list",
            lambda db: cq.gaps(db, b, None, None, None, 51),
        ),
        Case("overview", "/api/stats", "stats", overview),
    ]


async def _context(db: Any, message_id: str, channel_id: int, key: Any) -> None:
    await mq.by_id(db, message_id)
    await mq.around(db, channel_id, key, 10, 10, "include")


async def _users(db: Any, prefix: str | None, channel_id: int | None) -> None:
    if channel_id is None:
        rows = await uq.page_by_login(db, prefix, None, 51, 0)
    else:
        rows = await uq.page_by_channel(db, channel_id, prefix, None, 51, 0)
    if len(rows) > 50:
        await uq.count_capped(db, prefix, channel_id, 1000)


async def _channels(db: Any) -> None:
    await cq.all_channels(db, None)
    await sq.channel_totals(db)


async def _channel(db: Any, login: str, channel_id: int) -> None:
    await cq.by_login(db, login)
    await sq.channel_totals(db)
    await sq.chatters(db, channel_id)
    await cq.open_gaps(db, channel_id)


async def wait_ready(port: int, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError("the api exited during start-up")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: bench\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            writer.close()
            if head[9:12] == b"200":
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the api did not become ready within 30 s")


def target_for(kind: str) -> float:
    return 100.0 if kind == "search" else 50.0


async def main_async(args: argparse.Namespace) -> int:
    variant = VARIANTS["1m" if args.quick else "10m"]
    url = await ensure(args.database_url, variant)
    seconds = args.duration or (5.0 if args.quick else 20.0)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "API_PORT": str(port),
        "RATE_LIMIT_PER_MINUTE": "0",
        "REDIS_PREFIX": f"bench:{os.getpid()}:",
        "NATS_NAMESPACE": "bench.",
        "LOG_LEVEL": "warning",
        "DB_POOL_MAX": str(args.pool),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "archive_api", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    pool = await create_pool(url, min_size=args.pool, max_size=args.pool)
    floor_pools = {
        "custom": pool,
        "generic": await create_pool(
            url,
            min_size=args.pool,
            max_size=args.pool,
            server_settings={"plan_cache_mode": "force_generic_plan"},
        ),
    }
    failed = 0
    try:
        await wait_ready(port, proc)
        all_cases = await cases(pool)
        if args.only:
            all_cases = [c for c in all_cases if args.only in c.name]
        print(
            f"\napi under {args.concurrency} concurrent clients, {seconds:.0f} s per endpoint, "
            f"{variant.messages:,} messages ({variant.database}); floor = the same SQL from "
            f"{args.concurrency} asyncpg tasks on {args.pool} connections\n"
        )
        header = (
            f"{'endpoint':<28} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} | "
            f"{'floor/s':>7} {'p50':>6} {'p95':>7} | {'target':>7} {'2fl+5':>8} {'ok':>3}"
        )
        print(header)
        print("-" * len(header))
        for case in all_cases:
            await drive_http(port, case.path, 4, 0.5)  # warm caches and plans
            api = await drive_http(port, case.path, args.concurrency, seconds)
            floor_pool = floor_pools[case.plans]
            floor = await drive_sql(floor_pool, case.floor, args.concurrency, min(seconds, 10.0))
            relative = 2 * floor.pct(95) + 5
            relative_ok = api.pct(95) <= 2 * floor.pct(95) + 5
            ok = api.errors == 0 and api.pct(95) <= target_for(case.kind) and relative_ok
            failed += not ok
            print(
                f"{case.name:<28} {api.rps:7.0f} {api.pct(50):6.1f}ms {api.pct(95):6.1f}ms "
                f"{api.pct(99):6.1f}ms | {floor.rps:7.0f} {floor.pct(50):5.1f}ms "
                f"{floor.pct(95):6.1f}ms | {target_for(case.kind):5.0f}ms {relative:6.1f}ms "
                f"{'yes' if ok else 'NO':>3}" + (f"  ({api.errors} errors)" if api.errors else ""),
                flush=True,
            )
    finally:
        await asyncio.gather(*(p.close() for p in floor_pools.values()))
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
    print(f"\n{len(all_cases) - failed}/{len(all_cases)} endpoints within target")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M messages, 5 s per endpoint")
    parser.add_argument("--duration", type=float, default=None, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients")
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL connections")
    parser.add_argument("--only", default=None, help="endpoints whose name contains this")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="server of the bench DB")
    return uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
