"""Ingestor figures: throughput beside the JetStream publish ceiling, join time, RSS over a run.

Usage: uv run python bench/bench_ingestor.py [--quick]

Every party runs in its own process, as in production: nats-server, the ingestor
(`python -m archive_ingestor`, uvloop), the IRC source, and this script, which only polls.

- throughput: the source is a firehose that speaks the simulator's login and JOIN handshake and
  then writes lines pre-rendered by the simulator's own traffic generator (realistic PRIVMSG,
  USERNOTICE, CLEARCHAT, CLEARMSG mix) as fast as the socket takes them, in 16 KiB frames like the
  simulator's, so the figure is the ingestor's (parse -> encode -> publish -> JetStream ack),
  not the generator's. It is timed from the first frame to the last event acked in the stream.
  The ceiling is a bare nats-py publisher (uvloop, `publish_async`, 4,000 acks in flight) of the
  same payloads, subjects and Nats-Msg-Id headers, in the same run.
- join time: the real simulator (join limit 20 per window per login, no traffic) and the ingestor
  at its default pacing (90 channels per connection, a connection every 0.5 s, 20 JOINs per
  10 s per login; anonymous, so one justinfan login per connection). Timed from the first
  connection to the last JOIN confirmed; beside it the pacing's theoretical minimum.
- RSS: the ingestor under steady simulator traffic; resident memory sampled after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import nats
import uvloop
from aiohttp import WSMsgType, web
from nats.js import JetStreamContext

from twitch_archive.bus import StreamSettings, delete_namespace, ensure_streams, event_subject
from twitch_archive.codec import encode_event
from twitch_archive.irc import parse
from twitch_archive.logging import configure
from twitch_archive.simulator import run_simulator
from twitch_archive.simulator.traffic import TrafficGenerator
from twitch_archive.subjects import HEADER_MSG_ID, Names

ROOT = Path(__file__).resolve().parent.parent
NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
FRAME_BYTES = 16_384
STREAM_MAX_BYTES = 2 * 1024**3
"""The shared server reserves a stream's max_bytes; the bench's streams stay modest."""


# ---------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident set size of a process, MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_names(label: str) -> Names:
    return Names(ns=f"bench{label}{secrets.token_hex(3)}.")


def render_lines(channels: list[str], total: int, seed: int = 7) -> list[str]:
    """`total` realistic raw lines spread over `channels`, from the simulator's generator."""

    generator = TrafficGenerator(None, seed)
    streams = [generator.channel(name, 1.0) for name in channels]
    now_ms = time.time_ns() // 1_000_000
    return [streams[i % len(streams)].next(now_ms + i).line for i in range(total)]


def frames_of(lines: list[str]) -> list[str]:
    frames: list[str] = []
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line) + 2
        if size >= FRAME_BYTES:
            frames.append("\r\n".join(batch) + "\r\n")
            batch, size = [], 0
    if batch:
        frames.append("\r\n".join(batch) + "\r\n")
    return frames


class Child:
    """A child process of this bench, stopped on exit."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            args,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=ROOT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().decode().strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@contextlib.contextmanager
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.stop()


def ingestor(env: dict[str, str], log: Path) -> Child:
    base = {
        "NATS_URL": NATS_URL,
        "METRICS_PORT": str(free_port()),
        "LOG_LEVEL": "warning",
        "STREAM_MAX_BYTES": str(STREAM_MAX_BYTES),
        "INGESTOR_ID": f"bench-{secrets.token_hex(2)}",
    }
    return Child([sys.executable, "-m", "archive_ingestor"], {**base, **env}, log)


def role(name: str, config: dict[str, Any], log: Path) -> Child:
    """Run a role of this script in a child process (it prints its URL on its first line)."""
    return Child(
        [
            sys.executable,
            __file__,
            "--role",
            name,
            "--config",
            msgspec.json.encode(config).decode(),
        ],
        {},
        log,
    )


async def cleanup(names: Names) -> None:

    nc = await nats.connect(NATS_URL)
    try:
        await delete_namespace(nc, names)
    finally:
        await nc.close()


async def stream_count(js: JetStreamContext, names: Names) -> int:
    try:
        info = await js.stream_info(names.chat_stream)
    except Exception:  # noqa: BLE001 - not created yet
        return 0
    return int(info.state.messages)


# ---------------------------------------------------------------------------- child roles


async def firehose(config: dict[str, Any]) -> None:
    """A minimal Twitch-dialect server that blasts pre-rendered frames once every JOIN is in."""

    channels: list[str] = config["channels"]
    frames = frames_of(render_lines(channels, config["lines"]))
    expected = set(channels)

    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        login = "justinfan1"
        joined: set[str] = set()
        blasting: asyncio.Task[None] | None = None

        async def blast() -> None:
            print(f"blast {time.time():.6f}", flush=True)
            for frame in frames:
                await ws.send_str(frame)

        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            for line in msg.data.split("\r\n"):
                word, _, rest = line.partition(" ")
                if word == "NICK":
                    login = rest.strip()
                    await ws.send_str(f":tmi.twitch.tv 001 {login} :Welcome, GLHF!\r\n")
                elif word == "PING":
                    await ws.send_str(f"PONG {rest}\r\n")
                elif word == "JOIN":
                    names = [c.strip().lstrip("#") for c in rest.split(",")]
                    joined.update(names)
                    await ws.send_str(
                        "".join(
                            f":{login}!{login}@{login}.tmi.twitch.tv JOIN #{n}\r\n" for n in names
                        )
                    )
                    if joined >= expected and blasting is None:
                        blasting = asyncio.create_task(blast())
        return ws

    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"ws://127.0.0.1:{port}/", flush=True)
    await asyncio.Event().wait()


async def ceiling(config: dict[str, Any]) -> None:
    """A bare nats-py publisher: the same payloads, subjects and ids, 4,000 acks in flight."""
    names = Names(ns=config["ns"])
    events = [
        e
        for e in (parse(line) for line in render_lines(config["channels"], config["lines"]))
        if e is not None
    ]
    prepared = [(event_subject(names, e), encode_event(e), e.id) for e in events]
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream(publish_async_max_pending=4000)
    await ensure_streams(js, names, StreamSettings(max_bytes=STREAM_MAX_BYTES))
    print("ready", flush=True)
    started = time.perf_counter()
    for subject, payload, msg_id in prepared:  # acks are awaited all together below
        _ack = await js.publish_async(subject, payload, headers={HEADER_MSG_ID: msg_id})
    await js.publish_async_completed()
    elapsed = time.perf_counter() - started
    print(f"{len(prepared)} {elapsed:.6f}", flush=True)
    await nc.close()


async def simulator(config: dict[str, Any]) -> None:
    """The real simulator, in its own process."""

    async with run_simulator(**config) as sim:
        print(sim.irc_url, flush=True)
        await asyncio.Event().wait()


# ---------------------------------------------------------------------------- measurements


async def measure_ceiling(channels: list[str], lines: int, logs: Path) -> float:
    names = bench_names("c")
    try:
        with children() as kids:
            kid = role(
                "ceiling",
                {"ns": names.ns, "channels": channels, "lines": lines},
                logs / "ceiling.log",
            )
            kids.append(kid)
            await asyncio.to_thread(kid.readline)  # its `ready` line
            count, elapsed = (await asyncio.to_thread(kid.readline)).split()
            return int(count) / float(elapsed)
    finally:
        await cleanup(names)


async def measure_ingestor_throughput(
    channels: list[str], lines: int, logs: Path
) -> tuple[float, float]:
    """(events/s from the first frame to the last ack, ingestor CPU microseconds per event)."""
    names = bench_names("t")
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    try:
        with children() as kids:
            source = role("firehose", {"channels": channels, "lines": lines}, logs / "firehose.log")
            kids.append(source)
            url = await asyncio.to_thread(source.readline)
            expected = lines  # every generated line is an archived event
            proc = ingestor(
                {"TWITCH_IRC_URL": url, "CHANNELS": ",".join(channels), "NATS_NAMESPACE": names.ns},
                logs / "ingestor-throughput.log",
            )
            kids.append(proc)
            started = float((await asyncio.to_thread(source.readline)).split()[1])
            cpu_before = cpu_seconds(proc.pid)
            deadline = time.monotonic() + 300
            count = 0
            while time.monotonic() < deadline:
                count = await stream_count(js, names)
                if count >= expected:
                    break
                await asyncio.sleep(0.02)
            finished = time.time()
            cpu_us = (cpu_seconds(proc.pid) - cpu_before) / max(count, 1) * 1e6
            return count / (finished - started), cpu_us
    finally:
        await nc.close()
        await cleanup(names)


async def measure_simulator_end_to_end(channels: list[str], seconds: float, logs: Path) -> float:
    """Events/s archived with the real simulator generating as fast as it can (its own limit)."""

    names = bench_names("s")
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    try:
        with children() as kids:
            sim = role(
                "simulator",
                {
                    "channels": channels,
                    "rate": 5_000.0,
                    "seed": 5,
                    "join_window_s": 1.0,
                    "record_sent": False,
                    "log_level": "warning",
                },
                logs / "simulator-e2e.log",
            )
            kids.append(sim)
            url = await asyncio.to_thread(sim.readline)
            kids.append(
                ingestor(
                    {
                        "TWITCH_IRC_URL": url,
                        "CHANNELS": ",".join(channels),
                        "NATS_NAMESPACE": names.ns,
                    },
                    logs / "ingestor-e2e.log",
                )
            )
            while await stream_count(js, names) < 10_000:  # noqa: ASYNC110 - polls another process's stream
                await asyncio.sleep(0.1)
            first, started = await stream_count(js, names), time.monotonic()
            await asyncio.sleep(seconds)
            return (await stream_count(js, names) - first) / (time.monotonic() - started)
    finally:
        await nc.close()
        await cleanup(names)


def join_minimum(
    channels: int, per_connection: int, pacing_s: float, limit: int, window_s: float
) -> float:
    """The pacing's theoretical minimum from the first connection to the last JOIN."""
    connections = math.ceil(channels / per_connection)
    worst = 0.0
    for i in range(connections):
        n = min(per_connection, channels - i * per_connection)
        worst = max(worst, i * pacing_s + (math.ceil(n / limit) - 1) * window_s)
    return worst


async def measure_joins(channels: int, window_s: float, logs: Path) -> tuple[float, float, int]:

    names = bench_names("j")
    wanted = [f"bench_{i:05d}" for i in range(channels)]
    try:
        with children() as kids:
            sim = role(
                "simulator",
                {"rate": 0, "join_limit": 20, "join_window_s": window_s, "log_level": "warning"},
                logs / "simulator-joins.log",
            )
            kids.append(sim)
            url = await asyncio.to_thread(sim.readline)
            control = url.replace("ws://", "http://").rstrip("/") + "/control/stats"
            kids.append(
                ingestor(
                    {
                        "TWITCH_IRC_URL": url,
                        "CHANNELS": ",".join(wanted),
                        "NATS_NAMESPACE": names.ns,
                        "JOIN_WINDOW_S": str(window_s),
                    },
                    logs / "ingestor-joins.log",
                )
            )
            first: float | None = None
            refused = 0
            async with aiohttp.ClientSession() as http:
                deadline = time.monotonic() + channels / 20 * window_s + 600
                while time.monotonic() < deadline:
                    async with http.get(control) as response:
                        stats = await response.json()
                    now = time.monotonic()
                    if first is None and stats["connections_total"] > 0:
                        first = now
                    refused = stats["joins_refused"]
                    if stats["joins"] >= channels:
                        assert first is not None
                        minimum = join_minimum(channels, 90, 0.5, 20, window_s)
                        return now - first, minimum, refused
                    await asyncio.sleep(0.1)
            raise RuntimeError("joins did not finish in time")
    finally:
        await cleanup(names)


async def measure_rss(duration_s: float, logs: Path) -> tuple[float, float, float, int]:

    names = bench_names("r")
    channels = [f"rss_{i:03d}" for i in range(500)]
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    try:
        with children() as kids:
            sim = role(
                "simulator",
                {
                    "channels": channels,
                    "rate": 10.0,
                    "seed": 11,
                    "join_window_s": 0.5,
                    "record_sent": False,
                    "log_level": "warning",
                },
                logs / "simulator-rss.log",
            )
            kids.append(sim)
            url = await asyncio.to_thread(sim.readline)
            proc = ingestor(
                {
                    "TWITCH_IRC_URL": url,
                    "CHANNELS": ",".join(channels),
                    "NATS_NAMESPACE": names.ns,
                    "JOIN_WINDOW_S": "0.5",
                    "CONNECTION_PACING_S": "0.05",
                },
                logs / "ingestor-rss.log",
            )
            kids.append(proc)
            warmup = max(5.0, duration_s * 0.1)
            await asyncio.sleep(warmup)
            start_rss = rss_mib(proc.pid)
            start_count = await stream_count(js, names)
            peak = start_rss
            ends = time.monotonic() + duration_s
            while time.monotonic() < ends:
                await asyncio.sleep(min(5.0, duration_s / 10))
                peak = max(peak, rss_mib(proc.pid))
            end_rss = rss_mib(proc.pid)
            events = await stream_count(js, names) - start_count
            return start_rss, end_rss, peak, events
    finally:
        await nc.close()
        await cleanup(names)


# ---------------------------------------------------------------------------- main


PARTS = ("throughput", "joins", "rss")


async def run(quick: bool, parts: tuple[str, ...]) -> int:
    logs = ROOT / ".state" / "bench-logs"
    logs.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, str, str]] = []
    ok = True

    if "throughput" in parts:
        channels = [f"fire_{i:02d}" for i in range(50)]
        lines = 100_000 if quick else 400_000
        ceilings: list[float] = []
        rates: list[float] = []
        cpu_per_event: list[float] = []
        for _ in range(1 if quick else 3):  # interleaved: contention hits both alike
            ceilings.append(await measure_ceiling(channels, lines, logs))
            rate, cpu_us = await measure_ingestor_throughput(channels, lines, logs)
            rates.append(rate)
            cpu_per_event.append(cpu_us)
        ceiling_rate = sorted(ceilings)[len(ceilings) // 2]
        ingest_rate = sorted(rates)[len(rates) // 2]
        simulator_rate = await measure_simulator_end_to_end(channels, 5.0 if quick else 15.0, logs)
        ok &= ingest_rate >= 30_000 and ingest_rate >= 0.5 * ceiling_rate
        rows += [
            (
                f"ingestor throughput, {lines:,} events (firehose -> parsed -> acked), median",
                f"{ingest_rate:,.0f} msg/s",
                ">= 30,000",
            ),
            ("bare nats-py publisher, same payloads (ceiling)", f"{ceiling_rate:,.0f} msg/s", ""),
            ("ingestor / ceiling", f"{ingest_rate / ceiling_rate:.2f}", ">= 0.50"),
            (
                "  ingestor CPU per event (its own process; 1e6 / it = one core's worth)",
                f"{min(cpu_per_event):.1f} us = {1e6 / min(cpu_per_event):,.0f}/s",
                "",
            ),
            (
                "  every round: ingestor / ceiling",
                " ".join(
                    f"{r / 1000:.0f}k/{c / 1000:.0f}k" for r, c in zip(rates, ceilings, strict=True)
                ),
                "",
            ),
            (
                "end to end with the real simulator at full speed (simulator-bound)",
                f"{simulator_rate:,.0f} msg/s",
                "",
            ),
        ]

    if "joins" in parts:
        join_channels, window = (1_000, 1.0) if quick else (10_000, 10.0)
        join_s, join_min, refused = await measure_joins(join_channels, window, logs)
        ok &= join_s <= join_min * 1.1 and refused == 0
        rows += [
            (
                f"join {join_channels:,} channels (20 per {window:g} s per login, 90 a connection)",
                f"{join_s:,.1f} s",
                f"<= {join_min * 1.1:,.1f} s",
            ),
            ("  the pacing's theoretical minimum", f"{join_min:,.1f} s", ""),
            ("  JOINs the simulator refused", f"{refused}", "0"),
            (
                f"  one login for all (credentials): {join_channels:,} x {window:g} s / 20",
                f"{(math.ceil(join_channels / 20) - 1) * window:,.0f} s",
                "(not measured)",
            ),
        ]

    if "rss" in parts:
        rss_s = 20.0 if quick else 300.0
        rss_start, rss_end, rss_peak, rss_events = await measure_rss(rss_s, logs)
        ok &= rss_end <= rss_start * 1.2
        rows += [
            (f"RSS over {rss_s:g} s, 500 channels x 10 msg/s: start", f"{rss_start:,.1f} MiB", ""),
            ("  end / peak", f"{rss_end:,.1f} / {rss_peak:,.1f} MiB", "flat (+20 % at most)"),
            ("  events archived during the RSS run", f"{rss_events:,}", ""),
        ]

    rows.append(
        (
            "machine load average (1 min) before / after",
            f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
            "2 cores: > 1 means other work ran",
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'ingestor':<{width}}  {'measured':>22}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>22}  {target}")
    print("targets met" if ok else "targets NOT met")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, shorter runs")
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="run only this part (repeatable)"
    )
    parser.add_argument(
        "--role", choices=["firehose", "ceiling", "simulator"], help=argparse.SUPPRESS
    )
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        configure(f"bench-{args.role}", "warning", json=True, stream=sys.stderr)
        config = msgspec.json.decode(args.config or "{}")
        coro = {"firehose": firehose, "ceiling": ceiling, "simulator": simulator}[args.role](config)
        with contextlib.suppress(KeyboardInterrupt):
            uvloop.run(coro)
        return 0
    return asyncio.run(run(args.quick, tuple(args.only or PARTS)))


if __name__ == "__main__":
    sys.exit(main())
