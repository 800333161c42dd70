"""Writer throughput and commit delay, beside the raw COPY ceiling measured in the same run.

Usage: uv run python bench/bench_writer.py [--quick]

1. Generates N events of a realistic mix (about 95% messages, 3.8% user notices, 1.2% moderation
   actions of which almost half are deletions of earlier messages; 50 channels and 200,000 users,
   both Zipf-distributed; a few renames) as the ingestor would publish them.
2. Raw COPY ceiling: the same rows COPY'd straight into messages / usernotices / mod_actions of a
   fresh migrated database (all indexes, no NATS, no dedupe), in batches of the writer's size.
3. Pre-fills a fresh, namespaced JetStream stream with the N events, then runs the writer (a real
   `python -m archive_writer` process) on another fresh database until every event is acked,
   i.e. committed: sustained msg/s, and the ratio to the ceiling.
4. Commit delay: publishes at a steady 5,000 msg/s with ts = now for 30 s (10 s with --quick);
   p50/p99 of commit time - ts from the writer's archive_writer_commit_delay_seconds histogram
   (histogram_quantile over buckets 50-250 ms wide below 1.5 s).
5. Outage: a second writer process reaches PostgreSQL through a TCP proxy that is cut for 60 s
   (10 s with --quick) while 5,000 msg/s keep arriving: its RSS is sampled every second (it must
   level off at the window bound), then everything published must be stored once.
Databases and streams are removed at the end. N = 1,000,000 (50,000 with --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import signal
import socket
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import nats
from nats.js.errors import NotFoundError

from twitch_archive.bus import ensure_streams
from twitch_archive.codec import encode_event
from twitch_archive.db import init_connection
from twitch_archive.events import Badge, ChatEvent, Emote, Message, ModAction, UserNotice
from twitch_archive.migrate import migrate
from twitch_archive.subjects import HEADER_MSG_ID, Names
from twitch_archive.testing.proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/twitch_archive")
NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
BATCH = int(os.environ.get("BATCH_MAX_EVENTS", "20000"))
"""The writer's BATCH_MAX_EVENTS (default 20,000), also the ceiling's COPY batch."""
CHANNELS = 50
USERS = 200_000
DELAY_RATE = 5_000

WORDS = [
    "".join(random.Random(i).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(2 + i % 9))
    for i in range(3000)
] + ["LUL", "Kappa", "PogChamp", "KEKW", "monkaS", "OMEGALUL", "pog", "gg", "xd", "lol"]
EMOTES = [("25", "Kappa"), ("88", "PogChamp"), ("1902", "Keepo"), ("305954156", "PogU")]
NOTICES = ["sub", "resub", "subgift", "raid", "announcement", "submysterygift"]


# ---------------------------------------------------------------------------- events


@dataclass
class Generated:
    subjects: list[str] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    ceiling: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]] = field(
        default_factory=lambda: ([], [], [])
    )
    kinds: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])


class Generator:
    """Deterministic realistic traffic; `ts_of(i)` decides the event times."""

    def __init__(self, names: Names, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.names = names
        self.channels = [f"bench_chan_{i:02d}" for i in range(CHANNELS)]
        self.rooms = [str(90_000_000 + i) for i in range(CHANNELS)]
        self.channel_cum = list(accumulate(1 / (i + 1) for i in range(CHANNELS)))
        self.user_cum = list(accumulate(1 / (i + 1) ** 0.8 for i in range(USERS)))
        self.recent: dict[int, deque[str]] = {i: deque(maxlen=200) for i in range(CHANNELS)}
        self.serial = 0

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _user(self, k: int, ts: int, renamed_after: int) -> tuple[str, str, str]:
        login = f"user{k}" if not (k % 997 == 0 and ts > renamed_after) else f"user{k}_new"
        return str(40_000_000 + k), login, login.capitalize()

    def event(self, ts: int, renamed_after: int) -> ChatEvent:
        rng = self.rng
        c = rng.choices(range(CHANNELS), cum_weights=self.channel_cum)[0]
        channel, room = self.channels[c], self.rooms[c]
        roll = rng.random()
        if roll < 0.95:
            k = rng.choices(range(USERS), cum_weights=self.user_cum)[0]
            uid, login, display = self._user(k, ts, renamed_after)
            words = rng.choices(WORDS, k=rng.randint(1, 18))
            emotes: tuple[Emote, ...] = ()
            if rng.random() < 0.3:
                eid, code = rng.choice(EMOTES)
                start = sum(len(w) + 1 for w in words)
                words.append(code)
                emotes = (Emote(id=eid, start=start, end=start + len(code) - 1),)
            mid = self._uuid()
            self.recent[c].append(mid)
            sub = rng.random() < 0.3
            return Message(
                id=mid, channel=channel, channel_id=room, ts=ts, message_id=mid, user_id=uid,
                user_login=login, display_name=display, text=" ".join(words),
                is_action=rng.random() < 0.02,
                badges=(Badge(name="subscriber", version="12"),) if sub else (),
                badge_info=(Badge(name="subscriber", version="14"),) if sub else (),
                emotes=emotes, color=rng.choice([None, "#FF0000", "#1E90FF", "#9ACD32"]),
                bits=100 if rng.random() < 0.005 else None, first_msg=rng.random() < 0.01,
            )  # fmt: skip
        if roll < 0.988:
            k = rng.choices(range(USERS), cum_weights=self.user_cum)[0]
            uid, login, display = self._user(k, ts, renamed_after)
            notice = rng.choice(NOTICES)
            return UserNotice(
                id=self._uuid(), channel=channel, channel_id=room, ts=ts, notice_type=notice,
                message_id=None, user_id=uid, user_login=login, display_name=display,
                text="hype" if rng.random() < 0.5 else None,
                system_msg=f"{display} did a {notice}.",
                params={"cumulative-months": str(rng.randint(1, 60)), "sub-plan": "1000"},
            )  # fmt: skip
        kind = rng.random()
        k = rng.choices(range(USERS), cum_weights=self.user_cum)[0]
        uid, login, _ = self._user(k, ts, renamed_after)
        self.serial += 1
        eid = f"bench-mod-{self.serial}-{self._uuid()}"
        if kind < 0.45 and self.recent[c]:
            target = rng.choice(self.recent[c])
            return ModAction(
                id=eid, channel=channel, channel_id=room, ts=ts, action="delete",
                target_user_login=login, target_message_id=target, message_text="deleted words",
            )  # fmt: skip
        if kind < 0.85:
            return ModAction(
                id=eid, channel=channel, channel_id=room, ts=ts, action="timeout",
                target_user_id=uid, target_user_login=login, duration_s=rng.choice([60, 600]),
            )  # fmt: skip
        if kind < 0.97:
            return ModAction(
                id=eid, channel=channel, channel_id=room, ts=ts, action="ban",
                target_user_id=uid, target_user_login=login,
            )  # fmt: skip
        return ModAction(id=eid, channel=channel, channel_id=room, ts=ts, action="clear")


def _sent_at(ts: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ts)


def ceiling_row(event: ChatEvent, channel_ids: dict[str, int]) -> tuple[int, tuple[Any, ...]]:
    """The final-table row of an event, as a plain COPY would write it."""
    cid = channel_ids[event.channel]
    if isinstance(event, Message):
        return 0, (
            _sent_at(event.ts), None, cid, event.bits, event.is_action, event.first_msg, event.id,
            event.user_id, event.user_login, event.display_name, event.text, event.color,
            event.badges, event.badge_info, event.emotes, event.reply_parent_msg_id,
            event.reply_parent_user_login, event.source_channel_id,
        )  # fmt: skip
    if isinstance(event, UserNotice):
        return 1, (
            event.id, _sent_at(event.ts), cid, event.notice_type, event.message_id, event.user_id,
            event.user_login, event.display_name, event.text, event.system_msg, event.params,
        )  # fmt: skip
    return 2, (
        event.id, _sent_at(event.ts), cid, event.action, event.target_user_id,
        event.target_user_login, event.duration_s, event.target_message_id, event.message_text,
        event.moderator_id, event.moderator_login, event.reason,
    )  # fmt: skip


CEILING_COLUMNS = (
    ("messages", ("sent_at", "deleted_at", "channel_id", "bits", "is_action", "first_msg", "id",
                  "user_id", "user_login", "display_name", "text", "color", "badges",
                  "badge_info", "emotes", "reply_parent_msg_id", "reply_parent_user_login",
                  "source_channel_id")),
    ("usernotices", ("id", "sent_at", "channel_id", "notice_type", "message_id", "user_id",
                     "user_login", "display_name", "text", "system_msg", "params")),
    ("mod_actions", ("id", "created_at", "channel_id", "action", "target_user_id",
                     "target_user_login", "duration_s", "target_message_id", "message_text",
                     "moderator_id", "moderator_login", "reason")),
)  # fmt: skip


def generate(names: Names, count: int) -> Generated:
    gen = Generator(names)
    start = int(time.time() * 1000) - 3_600_000
    step = 3_600_000 / count
    renamed_after = start + 1_800_000
    channel_ids = {name: i + 1 for i, name in enumerate(gen.channels)}
    out = Generated()
    for i in range(count):
        event = gen.event(start + int(i * step), renamed_after)
        kind, row = ceiling_row(event, channel_ids)
        out.ceiling[kind].append(row)
        out.counts[kind] += 1
        out.kinds.append(kind)
        out.subjects.append(names.chat_subject(event.channel, event.__struct_config__.tag))  # type: ignore[arg-type]
        out.payloads.append(encode_event(event))
        out.ids.append(event.id)
    return out


# ---------------------------------------------------------------------------- databases


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def drop_database(url: str, name: str) -> None:
    admin = await asyncpg.connect(with_database(url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def fresh_database(name: str) -> str:
    url = with_database(DATABASE_URL, name)
    await migrate(url, ROOT / "schema")
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        for month in {now - timedelta(hours=2), now}:
            await conn.execute("SELECT archive_ensure_message_partition($1)", month)
    finally:
        await conn.close()
    return url


async def measure_ceiling(url: str, data: Generated) -> float:
    """rows/s of plain COPY of the same rows into the same tables, batches of BATCH events."""
    conn = await asyncpg.connect(url)
    try:
        await init_connection(conn)
        for i in range(CHANNELS):
            await conn.execute(
                "INSERT INTO channels (login, twitch_id) VALUES ($1, $2)",
                f"bench_chan_{i:02d}",
                str(90_000_000 + i),
            )
        total = len(data.kinds)
        positions = [0, 0, 0]
        started = time.perf_counter()
        for begin in range(0, total, BATCH):
            end = min(total, begin + BATCH)
            counts = [0, 0, 0]
            for kind in data.kinds[begin:end]:
                counts[kind] += 1
            for kind, (table, columns) in enumerate(CEILING_COLUMNS):
                if counts[kind]:
                    rows = data.ceiling[kind][positions[kind] : positions[kind] + counts[kind]]
                    await conn.copy_records_to_table(table, records=rows, columns=columns)
                    positions[kind] += counts[kind]
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return total / elapsed


# ---------------------------------------------------------------------------- NATS


async def prefill(js: Any, data: Generated) -> float:
    started = time.perf_counter()
    futures = []
    for subject, payload, event_id in zip(data.subjects, data.payloads, data.ids, strict=True):
        futures.append(await js.publish_async(subject, payload, headers={HEADER_MSG_ID: event_id}))
        if len(futures) >= 20_000:
            await asyncio.gather(*futures)
            futures.clear()
    await asyncio.gather(*futures)
    return len(data.ids) / (time.perf_counter() - started)


async def consumer_state(js: Any, names: Names) -> tuple[int, int] | None:
    try:
        info = await js.consumer_info(names.chat_stream, names.writer_durable)
    except NotFoundError:
        return None
    return int(info.num_pending or 0), int(info.num_ack_pending or 0)


async def wait_all_acked(js: Any, names: Names, total: int, limit_s: float) -> tuple[float, float]:
    """(first delivery, all acked) monotonic times, polling the consumer every 20 ms."""
    first = None
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        state = await consumer_state(js, names)
        now = time.monotonic()
        if state is not None:
            pending, ack_pending = state
            if first is None and (pending < total or ack_pending > 0):
                first = now
            if first is not None and pending == 0 and ack_pending == 0:
                return first, now
        await asyncio.sleep(0.02)
    raise TimeoutError(f"the writer did not ack {total} events in {limit_s:.0f} s")


# ---------------------------------------------------------------------------- metrics


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("archive_writer_") and " " in line:
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def histogram_quantile(q: float, before: dict[str, float], after: dict[str, float]) -> float:
    name = "archive_writer_commit_delay_seconds_bucket"
    buckets = []
    for key, value in after.items():
        if key.startswith(name):
            le = key.split('le="', 1)[1].split('"', 1)[0]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets.append((bound, value - before.get(key, 0.0)))
    buckets.sort()
    total = buckets[-1][1]
    if total <= 0:
        return float("nan")
    rank = q * total
    low_bound, low_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return low_bound
            return low_bound + (bound - low_bound) * (rank - low_count) / max(
                count - low_count, 1e-9
            )
        low_bound, low_count = bound, count
    return float("nan")


async def publish_steady(js: Any, names: Names, gen: Generator, seconds: float) -> int:
    """DELAY_RATE msg/s with ts = now, in 10 ms ticks."""
    per_tick = DELAY_RATE // 100
    started = time.monotonic()
    sent = 0
    futures = []
    tick = 0
    while time.monotonic() - started < seconds:
        tick += 1
        for _ in range(per_tick):
            event = gen.event(int(time.time() * 1000), 0)
            subject = names.chat_subject(event.channel, event.__struct_config__.tag)  # type: ignore[arg-type]
            futures.append(
                await js.publish_async(
                    subject, encode_event(event), headers={HEADER_MSG_ID: event.id}
                )
            )
            sent += 1
        if len(futures) > 2_000:
            await asyncio.gather(*futures)
            futures.clear()
        await asyncio.sleep(max(0.0, started + tick * 0.01 - time.monotonic()))
    await asyncio.gather(*futures)
    return sent


# ---------------------------------------------------------------------------- main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")


async def backend_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'archive-writer'"
        )
    finally:
        await conn.close()
    return [int(row["pid"]) for row in rows]


async def nats_cpu_seconds() -> float:
    pgrep = await asyncio.create_subprocess_exec(
        "pgrep", "-x", "nats-server", stdout=asyncio.subprocess.PIPE
    )
    return sum(cpu_seconds(int(pid)) for pid in (await pgrep.communicate())[0].split())


async def backend_states(url: str) -> str:
    """Until cancelled: how many of the writer's backends are running and how many wait on a
    lock, sampled every 50 ms (the batches should never wait on each other)."""
    conn = await asyncpg.connect(url)
    running = waiting = samples = 0
    try:
        while True:
            rows = await conn.fetch(
                "SELECT state, wait_event_type FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            running += sum(1 for r in rows if r[0] == "active" and r[1] is None)
            waiting += sum(1 for r in rows if r[0] == "active" and r[1] == "Lock")
            samples += 1
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        pass
    finally:
        await conn.close()
    n = max(samples, 1)
    return f"{running / n:.2f} / {waiting / n:.2f} on average ({samples} samples)"


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def count_rows(url: str) -> tuple[int, int, int, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM usernotices),"
            " (SELECT count(*) FROM mod_actions),"
            " (SELECT count(*) FROM messages WHERE deleted_at IS NOT NULL)"
        )
    finally:
        await conn.close()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


async def outage(
    js: Any, names: Names, env: dict[str, str], writer_url: str, seconds: float, log_file: Any
) -> tuple[list[float], int, int]:
    """RSS samples (MB, one a second) of a writer whose PostgreSQL is cut for `seconds` under
    steady load; then (events published, events stored afterwards) for the exactness check."""
    proxy = TcpProxy.for_url(writer_url)
    await proxy.start()
    before = (await count_rows(writer_url))[:3]
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "archive_writer",
        env={**env, "DATABASE_URL": proxy.url_for(writer_url)},
        stdout=log_file,
        stderr=log_file,
    )
    samples: list[float] = []
    try:
        gen = Generator(names, seed=11)
        sent = await publish_steady(js, names, gen, 3.0)  # warm: batches flowing
        proxy.cut()

        async def sample() -> None:
            while True:
                samples.append(rss_mb(writer.pid))
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample())
        sent += await publish_steady(js, names, gen, seconds)
        sampler.cancel()
        proxy.restore()
        await wait_all_acked(js, names, 0, limit_s=300)
        writer.send_signal(signal.SIGTERM)
        await asyncio.wait_for(writer.wait(), 60)
    finally:
        if writer.returncode is None:
            writer.kill()
            await writer.wait()
        await proxy.close()
    after = (await count_rows(writer_url))[:3]
    return samples, sent, sum(after) - sum(before)


async def main_async(quick: bool, events: int | None = None) -> int:
    total = events or (50_000 if quick else 1_000_000)
    delay_s = 10.0 if quick else 30.0
    run = secrets.token_hex(3)
    names = Names(ns=f"bench{run}.")
    db_ceiling, db_writer = f"archive_bench_{run}_copy", f"archive_bench_{run}_writer"
    print(f"generating {total:,} events ...", flush=True)
    t = time.perf_counter()
    data = generate(names, total)
    print(
        f"  {time.perf_counter() - t:.1f} s; mix messages/usernotices/mod_actions = {data.counts}"
    )
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream(publish_async_max_pending=4000)
    writer: asyncio.subprocess.Process | None = None
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept until the end for a post-mortem
        prefix="bench-writer-", suffix=".log", delete=False
    )
    rows: list[tuple[str, str]] = []
    exit_code = 1
    try:
        print("raw COPY ceiling ...", flush=True)
        ceiling_url = await fresh_database(db_ceiling)
        ceiling = await measure_ceiling(ceiling_url, data)
        await drop_database(DATABASE_URL, db_ceiling)
        data.ceiling = ([], [], [])
        writer_url = await fresh_database(db_writer)
        await ensure_streams(js, names)
        print("pre-filling the stream ...", flush=True)
        publish_rate = await prefill(js, data)
        expected = tuple(data.counts)
        del data

        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": writer_url,
            "NATS_URL": NATS_URL,
            "NATS_NAMESPACE": names.ns,
            "METRICS_HOST": "127.0.0.1",
            "METRICS_PORT": str(port),
            "LOG_LEVEL": "info",
        }
        print("writer draining the stream ...", flush=True)
        nats_cpu_before = await nats_cpu_seconds()
        writer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "archive_writer", env=env, stdout=log_file, stderr=log_file
        )
        sampler = asyncio.create_task(backend_states(writer_url))
        first, done = await wait_all_acked(js, names, total, limit_s=600)
        sampler.cancel()
        states = await sampler
        rate = total / (done - first)
        writer_cpu = cpu_seconds(writer.pid)
        pg_cpu = sum(cpu_seconds(pid) for pid in await backend_pids(writer_url))
        nats_cpu = await nats_cpu_seconds() - nats_cpu_before
        rss_after_fill = rss_mb(writer.pid)
        await asyncio.sleep(2.5)  # a deletion that raced its message is applied by the sweep
        stored = await count_rows(writer_url)

        print(f"steady {DELAY_RATE:,} msg/s for {delay_s:.0f} s ...", flush=True)
        before = scrape(port)
        sent = await publish_steady(js, names, Generator(names, seed=7), delay_s)
        await wait_all_acked(js, names, 0, limit_s=60)
        after = scrape(port)
        p50, p99 = (histogram_quantile(q, before, after) for q in (0.5, 0.99))
        dead = sum(
            v for k, v in after.items() if k.startswith("archive_writer_dead_lettered_total")
        )

        writer.send_signal(signal.SIGTERM)
        exit_status = await asyncio.wait_for(writer.wait(), 60)
        writer = None

        outage_s = 10.0 if quick else 60.0
        print(f"PostgreSQL cut for {outage_s:.0f} s under {DELAY_RATE:,} msg/s ...", flush=True)
        samples, outage_sent, outage_stored = await outage(
            js, names, env, writer_url, outage_s, log_file
        )
        quarter = max(1, len(samples) // 4)
        rss_line = " / ".join(f"{mb:,.0f}" for mb in samples[::quarter])

        mix = f"messages {expected[0]:,}, usernotices {expected[1]:,}, mod_actions {expected[2]:,}"
        delay = f"p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms  (goal p99 < 1,500 ms)"
        rows = [
            ("events", f"{total:,} ({mix})"),
            ("stream pre-fill (publish, acks in flight)", f"{publish_rate:,.0f} msg/s"),
            (f"raw COPY ceiling (same rows, batches of {BATCH:,})", f"{ceiling:,.0f} rows/s"),
            ("writer sustained", f"{rate:,.0f} msg/s  (goal >= 30,000)"),
            ("writer / ceiling", f"{rate / ceiling:.2f}  (goal >= 0.35)"),
            ("CPU s after the drain: writer / its PG backends", f"{writer_cpu:.1f} / {pg_cpu:.1f}"),
            ("CPU s: nats-server during the drain (shared server)", f"{nats_cpu:.1f}"),
            ("writer's PG backends during the drain: on CPU / waiting on locks", states),
            ("stored rows (messages, usernotices, mod_actions, deleted)", f"{stored}"),
            (f"commit delay at {DELAY_RATE:,} msg/s, {sent:,} events", delay),
            (f"writer RSS after draining {total:,}", f"{rss_after_fill:,.0f} MB"),
            ("dead-lettered", f"{dead:.0f}"),
            ("writer exit status after SIGTERM", f"{exit_status}"),
            (f"RSS MB every {quarter} s, PostgreSQL cut", f"{rss_line} (max {max(samples):,.0f})"),
            ("published around the outage / stored", f"{outage_sent:,} / {outage_stored:,}"),
            ("load average at the end (other work on this machine)", os.getloadavg().__repr__()),
        ]  # fmt: skip
        ok = (
            stored[:3] == expected
            and exit_status == 0
            and dead == 0
            and outage_sent == outage_stored
        )
        exit_code = 0 if ok else 1
    finally:
        if writer is not None and writer.returncode is None:
            writer.kill()
            await writer.wait()
        for stream in (names.chat_stream, names.deadletter_stream):
            with contextlib.suppress(Exception):
                await js.delete_stream(stream)
        await nc.drain()
        for name in (db_ceiling, db_writer):
            with contextlib.suppress(Exception):
                await drop_database(DATABASE_URL, name)
    width = max(len(k) for k, _ in rows) if rows else 0
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(f"(writer log: {log_file.name})")
    return exit_code


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="50,000 events and 10 s of steady load"
    )
    parser.add_argument("--events", type=int, default=None, help="override the event count")
    args = parser.parse_args()
    return asyncio.run(main_async(args.quick, args.events))


if __name__ == "__main__":
    sys.exit(main())
