"""Live delay through the whole pipeline: simulator -> ingestor -> NATS -> gateway -> clients.

Usage: uv run python bench/bench_pipeline_live.py [--quick] [--clients N] [--seconds S]
                                                  [--client-procs 1|2] [--phase both|fast|slow]

Every party is its own process, started with its console script as in production (and as
tests/e2e/test_pipeline.py does), on a fresh NATS namespace and fresh ports:
  - `twitch-archive simulate`: 50 channels at 100 lines/s each (5,000 lines/s of the simulator's
    realistic mix: ~97 % messages, the rest notices and moderation), with `--stamp-on-write`, so
    the tmi-sent-ts of every message is the millisecond its frame was written to the socket;
  - `archive-ingestor`: reads the simulator over WebSocket, publishes to JetStream;
  - `archive-live-gateway`: core NATS subscriptions -> N WebSocket clients, default settings;
  - clients: N minimal WebSocket clients over the 50 channels (client i watches channel i % 50),
    split over --client-procs processes (the gateway bench's hand-written RFC 6455 client, so the
    measuring side leaves the services as much CPU as possible). Each records, for every message
    frame, receive time - data.sentAt (= tmi-sent-ts: ms precision, so a delay reads 0-1 ms
    long), and counts every event frame it gets;
  - this script, which drives the simulator's control API, samples RSS and CPU from /proc and
    taps a few channels on NATS (sim -> ingestor -> NATS, the first half of the path).
Traffic runs only between the clients' subscribe and the end of a phase (rate 0 otherwise), and
the simulator's sent-id records are reset per phase, so each client's events can be compared
with exactly what the simulator wrote for its channel.
Phase 1: every client reads as fast as it can. Phase 2: 10 % of the clients read at 5 KB/s:
they must be closed with 4008 while every other client still gets every event, on time.
N = 1,000 clients, 5 s warm-up then 30 s measured per phase (200 clients, 2 + 5 s, with --quick;
the slow phase always measures at least 20 s, the time slow clients take to fill their buffers).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import nats

from twitch_archive.bus import delete_namespace
from twitch_archive.subjects import Names

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gateway import (  # bench/ is not a package: its sibling is imported by path
    BUCKET_MS,
    SLOW_FRACTION,
    BenchWsClient,
    _cpu_s,
    _dumps,
    _free_port,
    _histogram,
    _histogram_quantile,
    _metric,
    _Probe,
    _quantile,
    _rss_mb,
)

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
BIN = Path(sys.executable).parent
CHANNELS = 50
RATE = 5_000
EVENT_TYPES = frozenset({"message", "usernotice", "mod_action", "delete"})
STREAM_MAX_BYTES = 1024**3
"""The shared server reserves a stream's max_bytes up front; the bench's stream stays modest."""
TAPPED = 5
"""Channels this script also reads from NATS, for the sim -> NATS half of the delay."""
DRAIN_TIMEOUT_S = 15.0
LATE_MS = 100.0
"""Frames later than this are also counted per second of the window: stalls show as a burst."""


def _channel(i: int) -> str:
    return f"live{i % CHANNELS}"


# ------------------------------------------------------------------------------ client process


@dataclass
class ProcessStats:
    """What one client process measured (delays of reading clients only)."""

    delays: dict[int, int] = field(default_factory=dict)  # bucket -> message frames
    late: dict[int, list[float]] = field(default_factory=dict)  # second -> [frames late, max ms]
    started: float = 0.0
    measuring: bool = False
    finished: bool = False
    lag_max_ms: float = 0.0


class PipelineClient(BenchWsClient):
    """A client of this bench: counts event frames, records message delays and late bursts."""

    def __init__(self, port: int, channel: str, slow: bool, stats: ProcessStats) -> None:
        super().__init__(port, channel, slow)
        self.stats = stats
        self.events = 0

    def on_text(self, probe: _Probe, now: float) -> None:
        if probe.type not in EVENT_TYPES:
            return
        self.events += 1
        stats = self.stats
        sent = probe.data.sent_at if probe.data else None
        if stats.measuring and not self.slow and probe.type == "message" and sent:
            delay_ms = (now - sent.timestamp()) * 1000.0
            bucket = max(0, int(delay_ms / BUCKET_MS))
            stats.delays[bucket] = stats.delays.get(bucket, 0) + 1
            if delay_ms > LATE_MS:
                second = stats.late.setdefault(int(now - stats.started), [0, 0.0])
                second[0] += 1
                second[1] = max(second[1], delay_ms)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_early = not self.stats.finished
        super().connection_lost(exc)


async def _watch_lag(stats: ProcessStats) -> None:
    """How late this process's event loop runs a 10 ms timer: its own share of the delay."""
    while True:
        due = time.monotonic() + 0.01
        await asyncio.sleep(0.01)
        if stats.measuring:
            stats.lag_max_ms = max(stats.lag_max_ms, (time.monotonic() - due) * 1000.0)


async def run_clients(args: argparse.Namespace) -> None:
    """Client process: connect, subscribe, say READY, measure after GO, report after STOP."""
    loop = asyncio.get_running_loop()
    stats = ProcessStats()
    first, last = (int(x) for x in args.ids.split(":"))
    slow = {int(x) for x in args.slow.split(",") if x}
    clients: dict[int, PipelineClient] = {}

    async def open_one(i: int) -> None:
        sock = socket.socket()
        if i in slow:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", args.port))
        _, protocol = await loop.create_connection(
            lambda: PipelineClient(args.port, _channel(i), i in slow, stats), sock=sock
        )
        clients[i] = protocol
        await protocol.ready

    for start in range(first, last, 50):
        await asyncio.gather(*(open_one(i) for i in range(start, min(start + 50, last))))
    lag = asyncio.ensure_future(_watch_lag(stats))
    print("READY", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # GO: traffic starts
    await asyncio.sleep(args.warmup)
    stats.started = time.time()
    stats.measuring = True
    await asyncio.sleep(args.seconds)
    stats.measuring = False
    await loop.run_in_executor(None, sys.stdin.readline)  # STOP: everything was delivered
    stats.finished = True
    lag.cancel()
    for client in clients.values():
        if client.transport is not None:
            client.transport.close()
    await asyncio.sleep(0.2)
    result = {
        "delays": stats.delays,
        "late": stats.late,
        "clients": [
            [i, c.events, c.close_code, c.lost_early, c.slow] for i, c in sorted(clients.items())
        ],
        "lag_max_ms": stats.lag_max_ms,
    }
    print(_dumps(result), flush=True)


# ------------------------------------------------------------------------------ parent


def _http(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else msgspec.json.encode(body)
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return msgspec.json.decode(raw) if response.headers.get_content_type().endswith("json") else raw


def _text(url: str) -> str:
    return bytes(_http(url)).decode()


def _metric_sum(text: str, name: str) -> float:
    """The sum of a metric over all its label sets."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
            total += float(line.split()[-1])
    return total


def _hwm_mb(pid: int) -> float:
    """Peak resident set size of a process since it started (VmHWM), MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _machine_cpu_s() -> tuple[float, float]:
    """CPU seconds the whole machine spent (busy, of which interrupts) so far, from /proc/stat.

    Interrupt time is mostly loopback networking (softirq), which no process is charged for.
    """
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - fields[3] - fields[4]) / tick, (fields[5] + fields[6]) / tick


def _nats_server_pid() -> int | None:
    """The local nats-server's pid, to read its CPU use (None if it runs elsewhere)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "nats-server":
                    return int(entry.name)
    return None


class _TapEvent(msgspec.Struct):
    ts: int


class Services:
    """The simulator, ingestor and gateway processes of one run, and their addresses."""

    def __init__(self, ns: str, logs: Path, simulator_nice: int = 0) -> None:
        self.ns = ns
        self.logs = logs
        self.simulator_nice = simulator_nice
        self.sim_port, self.gw_port, self.ingestor_port = (_free_port() for _ in range(3))
        self.control = f"http://127.0.0.1:{self.sim_port}/control"
        self.gateway = f"http://127.0.0.1:{self.gw_port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], nice: int = 0) -> None:
        with (self.logs / f"{name}.log").open("wb") as log:
            self.procs[name] = subprocess.Popen(
                ["nice", "-n", str(nice), *argv] if nice else argv,
                env={**os.environ, **env},
                stdout=log,
                stderr=log,
            )

    def start_all(self) -> None:
        channels = ",".join(_channel(i) for i in range(CHANNELS))
        self.start(
            "simulator",
            [
                str(BIN / "twitch-archive"), "simulate", "--port", str(self.sim_port),
                "--channels", channels, "--rate", "0", "--seed", str(random.randrange(2**31)),
                "--join-limit", str(CHANNELS), "--stamp-on-write", "--log-level", "warning",
            ],
            {},
            nice=self.simulator_nice,
        )  # fmt: skip
        common = {"NATS_URL": NATS_URL, "NATS_NAMESPACE": self.ns, "LOG_LEVEL": "warning"}
        self.start(
            "ingestor",
            [str(BIN / "archive-ingestor")],
            {
                **common,
                "TWITCH_IRC_URL": f"ws://127.0.0.1:{self.sim_port}/",
                "CHANNELS": channels,
                "JOINS_PER_WINDOW": str(CHANNELS),
                "METRICS_PORT": str(self.ingestor_port),
                "STREAM_MAX_BYTES": str(STREAM_MAX_BYTES),
                "INGESTOR_ID": f"bench-live-{secrets.token_hex(2)}",
            },
        )
        self.start(
            "gateway",
            [str(BIN / "archive-live-gateway")],
            {**common, "GATEWAY_PORT": str(self.gw_port)},
        )

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    async def until_ready(self, timeout_s: float = 60.0) -> None:
        """Every channel joined by the ingestor, and the gateway ready."""
        deadline = time.monotonic() + timeout_s
        while True:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: {self.tail(name)}")
            with contextlib.suppress(OSError):
                stats = _http(f"{self.control}/stats")
                joined = sum(len(chans) for chans in stats["channels"].values())
                _http(f"{self.gateway}/readyz")
                if joined >= CHANNELS:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "services not ready in time (is NATS running? `make services`): "
                    + " | ".join(self.tail(name) for name in self.procs)
                )
            await asyncio.sleep(0.3)

    def tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-800:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _cleanup(ns: str) -> None:
    """Delete the run's streams and KV buckets from the shared NATS server."""
    names = Names(ns=ns)
    nc = await nats.connect(NATS_URL)
    try:
        await delete_namespace(nc, names)
    finally:
        await nc.close()


class Tap:
    """A core NATS subscription on a few channels' messages: event ts -> arrival at NATS."""

    def __init__(self) -> None:
        self.delays: dict[int, int] = {}
        self.measuring = False
        self._decoder = msgspec.json.Decoder(_TapEvent)
        self._nc: Any = None

    async def start(self, ns: str) -> None:
        names = Names(ns=ns)
        self._nc = await nats.connect(NATS_URL, name="bench-pipeline-live-tap")
        for i in range(TAPPED):
            await self._nc.subscribe(names.chat_subject(_channel(i), "message"), cb=self._on)

    async def _on(self, msg: Any) -> None:
        if self.measuring:
            delay_ms = time.time() * 1000.0 - self._decoder.decode(msg.data).ts
            bucket = max(0, int(delay_ms / BUCKET_MS))
            self.delays[bucket] = self.delays.get(bucket, 0) + 1

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()


@dataclass
class Phase:
    """One measured run."""

    title: str
    clients: int
    slow: int
    seconds: float
    hist: dict[int, int] = field(default_factory=dict)
    late: dict[int, list[float]] = field(default_factory=dict)
    sent: int = 0
    fast_complete: int = 0
    fast_worst: float = 1.0
    fast_missing: int = 0
    fast_dropped: int = 0
    slow_saw_4008: int = 0
    drop_s: float | None = None
    gw_rss: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ingestor_rss: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu: dict[str, float] = field(default_factory=dict)
    lag_max_ms: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    other_cpu: float = 0.0
    irq_cpu: float = 0.0
    server_p50: float = 0.0
    server_p99: float = 0.0
    tap: dict[int, int] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    nats_dropped: float = 0.0

    def q(self, quantile: float) -> float:
        return float(_quantile(self.hist, quantile))

    @property
    def max_ms(self) -> float:
        return (max(self.hist) + 1) * BUCKET_MS if self.hist else float("nan")


async def _phase(
    svc: Services, tap: Tap, args: argparse.Namespace, clients: int, slow_fraction: float
) -> Phase:
    seconds = args.seconds if not slow_fraction else max(args.seconds, 20.0)
    slow_ids = set(random.Random(1).sample(range(clients), int(clients * slow_fraction)))
    phase = Phase(
        title="10% slow readers" if slow_ids else "all clients read",
        clients=clients,
        slow=len(slow_ids),
        seconds=seconds,
    )
    _http(f"{svc.control}/reset-sent", {})
    procs = []
    bounds = [clients * k // args.client_procs for k in range(args.client_procs + 1)]
    for first, last in itertools.pairwise(bounds):
        slow = ",".join(str(i) for i in sorted(slow_ids) if first <= i < last)
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--role", "clients", "--port", str(svc.gw_port),
                "--ids", f"{first}:{last}", "--slow", slow, "--seconds", str(seconds),
                "--warmup", str(args.warmup), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
        )  # fmt: skip
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if line.strip() != b"READY":
            raise RuntimeError(f"client process failed to start: {line!r}")
    gw, ing, sim = svc.pid("gateway"), svc.pid("ingestor"), svc.pid("simulator")
    nats_pid = _nats_server_pid()
    ours = {"simulator": sim, "ingestor": ing, "gateway": gw, "parent": os.getpid()}
    ours |= {f"clients{k}": p.pid for k, p in enumerate(procs)}
    if nats_pid is not None:
        ours["nats-server"] = nats_pid
    before = _text(f"{svc.gateway}/metrics")
    gw_rss, ing_rss = [_rss_mb(gw)], [_rss_mb(ing)]
    load0 = os.getloadavg()[0]
    _http(f"{svc.control}/rate", {"rate": RATE / CHANNELS})
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"GO\n")
        await proc.stdin.drain()
    t0 = time.monotonic()
    await asyncio.sleep(args.warmup)
    cpu0 = {name: _cpu_s(pid) for name, pid in ours.items()}
    (busy0, irq0), t1 = _machine_cpu_s(), time.monotonic()
    tap.measuring = True
    while (elapsed := time.monotonic() - t1) < seconds:
        gw_rss.append(_rss_mb(gw))
        ing_rss.append(_rss_mb(ing))
        if slow_ids and phase.drop_s is None:
            now = await asyncio.to_thread(_text, f"{svc.gateway}/metrics")
            dropped = _metric(
                now, "archive_live_gateway_clients_dropped_total", reason="slow_consumer"
            ) - _metric(
                before, "archive_live_gateway_clients_dropped_total", reason="slow_consumer"
            )
            if dropped >= len(slow_ids):
                phase.drop_s = time.monotonic() - t0
        await asyncio.sleep(min(0.5, max(0.01, seconds - elapsed)))
    tap.measuring = False
    wall = time.monotonic() - t1
    phase.cpu = {name: (_cpu_s(pid) - cpu0[name]) / wall for name, pid in ours.items()}
    busy, irq = _machine_cpu_s()
    phase.irq_cpu = (irq - irq0) / wall
    phase.other_cpu = max(0.0, (busy - busy0) / wall - phase.irq_cpu - sum(phase.cpu.values()))
    phase.load = (load0, os.getloadavg()[0])
    _http(f"{svc.control}/rate", {"rate": 0})
    _http(f"{svc.control}/flush", {})
    sent_ids: dict[str, list[str]] = _http(f"{svc.control}/sent")["channels"]
    phase.sent = sum(len(ids) for ids in sent_ids.values())
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    received = "archive_live_gateway_events_received_total"
    while time.monotonic() < deadline:  # until the gateway has every event the simulator wrote
        got = _metric_sum(_text(f"{svc.gateway}/metrics"), received) - _metric_sum(before, received)
        if got >= phase.sent:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the gateway's last flush and the sockets
    gw_rss.append(_rss_mb(gw))
    ing_rss.append(_rss_mb(ing))
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"STOP\n")
        await proc.stdin.drain()
    outputs = [await proc.communicate() for proc in procs]
    phase.gw_rss = (gw_rss[0], max(gw_rss), gw_rss[-1])
    phase.ingestor_rss = (ing_rss[0], max(ing_rss), ing_rss[-1])
    expected = {name: len(ids) for name, ids in sent_ids.items()}
    for output in outputs:
        result = msgspec.json.decode(output[0].splitlines()[-1])
        for bucket, count in result["delays"].items():
            phase.hist[int(bucket)] = phase.hist.get(int(bucket), 0) + count
        phase.lag_max_ms = max(phase.lag_max_ms, result["lag_max_ms"])
        for second, (count, worst) in result["late"].items():
            merged = phase.late.setdefault(int(second), [0, 0.0])
            merged[0] += count
            merged[1] = max(merged[1], worst)
        for i, events, close_code, lost_early, slow in result["clients"]:
            if slow:
                phase.slow_saw_4008 += close_code == 4008
                continue
            want = expected.get(_channel(i), 0)
            phase.fast_complete += events == want
            phase.fast_missing += max(0, want - events)
            phase.fast_worst = min(phase.fast_worst, events / want if want else 1.0)
            phase.fast_dropped += bool(lost_early)
    after = _text(f"{svc.gateway}/metrics")
    phase.drops = {
        reason: int(
            _metric(after, "archive_live_gateway_clients_dropped_total", reason=reason)
            - _metric(before, "archive_live_gateway_clients_dropped_total", reason=reason)
        )
        for reason in ("slow_consumer", "rate_limit", "heartbeat")
    }
    delay = "archive_live_gateway_delivery_delay_seconds"
    phase.server_p50, phase.server_p99 = (
        1000 * _histogram_quantile(_histogram(before, delay), _histogram(after, delay), q)
        for q in (0.5, 0.99)
    )
    nats_drop = ("archive_live_gateway_queue_dropped_total", {"queue": "nats"})
    phase.nats_dropped = _metric(
        after, nats_drop[0], **nats_drop[1], reason="slow_consumer"
    ) - _metric(before, nats_drop[0], **nats_drop[1], reason="slow_consumer")
    phase.tap, tap.delays = tap.delays, {}
    return phase


async def main_parent(args: argparse.Namespace) -> int:
    clients = args.clients or (200 if args.quick else 1_000)
    args.seconds = args.seconds or (5.0 if args.quick else 30.0)
    args.warmup = args.warmup or (2.0 if args.quick else 5.0)
    ns = f"benchlive{secrets.token_hex(3)}."
    logs = Path(tempfile.mkdtemp(prefix="bench-pipeline-live-"))
    svc = Services(ns, logs, simulator_nice=args.simulator_nice)
    tap = Tap()
    phases: list[Phase] = []
    ok = False
    try:
        svc.start_all()
        try:
            await svc.until_ready()
        except RuntimeError as exc:
            print(exc)
            return 1
        await tap.start(ns)
        load = os.getloadavg()
        if args.phase in ("both", "fast"):
            phases.append(await _phase(svc, tap, args, clients, 0.0))
        if args.phase in ("both", "slow"):
            phases.append(await _phase(svc, tap, args, clients, SLOW_FRACTION))
        hwm = {name: _hwm_mb(svc.pid(name)) for name in ("gateway", "ingestor", "simulator")}
        ok = True
    finally:
        await tap.close()
        svc.stop()
        await _cleanup(ns)
        if ok:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            print(f"service logs: {logs}")
    _print(phases, clients, args, load, hwm)
    return 0


def _print(
    phases: list[Phase],
    clients: int,
    args: argparse.Namespace,
    load: tuple[float, float, float],
    hwm: dict[str, float],
) -> None:
    print(
        f"\nLive delivery delay through the whole pipeline: simulator ({RATE:,} lines/s over "
        f"{CHANNELS} channels, tmi-sent-ts stamped at the socket write) -> ingestor -> JetStream "
        f"-> gateway -> {clients:,} WebSocket clients in {args.client_procs} process(es); all on "
        f"{os.cpu_count()} cores with nats-server (load average before: "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f})"
    )
    header = (
        f"{'phase':<18} {'s':>3} {'events':>8} {'complete':>11} {'worst':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'p99.9':>7} {'max':>7} {'gw RSS MB':>14} {'ing RSS':>8} "
        f"{'slow dropped':>15} {'other':>6}"
    )
    print(header)
    print("-" * len(header))
    for p in phases:
        fast = p.clients - p.slow
        slow = f"{p.drops['slow_consumer']}/{p.slow}" if p.slow else "-"
        if p.slow and p.drop_s is not None:
            slow += f" in {p.drop_s:.0f}s"
        rss = f"{p.gw_rss[0]:.0f}/{p.gw_rss[1]:.0f}/{p.gw_rss[2]:.0f}"
        other = p.drops["rate_limit"] + p.drops["heartbeat"] + p.fast_dropped
        print(
            f"{p.title:<18} {p.seconds:>3.0f} {p.sent:>8,} {f'{p.fast_complete}/{fast}':>11} "
            f"{p.fast_worst:>7.2%} {p.q(0.5):>7.1f} {p.q(0.99):>7.1f} {p.q(0.999):>7.1f} "
            f"{p.max_ms:>7.1f} {rss:>14} {p.ingestor_rss[1]:>8.0f} {slow:>15} {other:>6}"
        )
    print(
        "events: events the simulator wrote while the phase ran (warm-up included). complete: "
        "reading clients that got every event of their channel / reading clients; worst: the "
        "smallest share any of them got. Delay: client receive time - data.sentAt (tmi-sent-ts "
        f"of the socket write, whole ms: +0-1 ms) of message frames, over {args.seconds:.0f} s "
        f"after a {args.warmup:.0f} s warm-up, reading clients only. gw RSS: start/max/end of "
        "the phase; ing RSS: the ingestor's max. slow dropped: closed by the gateway as slow "
        "consumers (4008) / slow clients, and when the last one was. other: rate-limit, "
        "heartbeat and reading-client drops."
    )
    print(
        f"  peak RSS over the run (VmHWM): gateway {hwm['gateway']:.0f} MB, ingestor "
        f"{hwm['ingestor']:.0f} MB, simulator {hwm['simulator']:.0f} MB"
    )
    for p in phases:
        cpu = ", ".join(f"{name} {share:.0%}" for name, share in p.cpu.items())
        print(
            f"  {p.title}: where the delay goes: simulator write -> NATS (tap on {TAPPED} "
            f"channels) p50 {_quantile(p.tap, 0.5):.1f} ms, p99 {_quantile(p.tap, 0.99):.1f} ms;"
            f" -> gateway socket write (its own histogram, oldest frame of each write) p50 "
            f"{p.server_p50:.0f} ms, p99 {p.server_p99:.0f} ms; -> client p50 {p.q(0.5):.1f} ms,"
            f" p99 {p.q(0.99):.1f} ms. Client loop lag max {p.lag_max_ms:.1f} ms"
        )
        late = ", ".join(
            f"{second}s: {int(count):,} (max {worst:,.0f} ms)"
            for second, (count, worst) in sorted(p.late.items())
        )
        print(
            f"  {p.title}: frames over {LATE_MS:.0f} ms by second of the window: {late or 'none'}"
        )
        print(
            f"  {p.title}: CPU (share of one core) {cpu}; interrupts (loopback networking) "
            f"{p.irq_cpu:.0%}; other processes on the machine {p.other_cpu:.0%}; load average "
            f"{p.load[0]:.2f} -> {p.load[1]:.2f}; gateway drops {p.drops}; slow clients that "
            f"read the 4008 close frame {p.slow_saw_4008} of "
            f"{p.slow}; events missing at reading clients {p.fast_missing}; events NATS dropped "
            f"for the gateway {p.nats_dropped:.0f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 clients, 5 s")
    parser.add_argument("--clients", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--client-procs", type=int, choices=[1, 2], default=2)
    parser.add_argument("--phase", choices=["both", "fast", "slow"], default="both")
    parser.add_argument(
        "--simulator-nice",
        type=int,
        default=10,
        help="niceness of the simulator: it stands in for Twitch, which runs elsewhere, so it "
        "yields the CPU to the archive's services when both want it (0: same priority)",
    )
    parser.add_argument("--role", choices=["parent", "clients"], default="parent")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ids", default="")
    parser.add_argument("--slow", default="")
    args = parser.parse_args()
    try:
        import uvloop  # noqa: PLC0415 - the services run on uvloop; so do the bench's processes
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    if args.role == "clients":
        runner(run_clients(args))
        return 0
    return int(runner(main_parent(args)))


if __name__ == "__main__":
    sys.exit(main())
