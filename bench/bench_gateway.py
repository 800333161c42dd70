"""Live gateway fan-out: delivery delay to 1,000 WebSocket clients at 5,000 events/s; slow clients.

Usage: uv run python bench/bench_gateway.py [--quick] [--clients N] [--seconds S]

Processes (the machine has 2 cores; each runs on its own event loop):
  - the gateway: a real `python -m archive_live_gateway` with its default settings;
  - clients: N WebSocket clients over 50 channels (client i watches channel i % 50), split over two
    processes. They are minimal asyncio WebSocket clients (RFC 6455 framing by hand, not aiohttp)
    so that the measuring side leaves the gateway as much CPU as possible; each one decodes
    `data.sentAt` of every frame and records receive time - sentAt;
  - a publisher: 5,000 message events/s with ts = now, published straight to NATS core on their
    channel's subject (not through simulator -> ingestor -> JetStream: that is the end-to-end
    variant, bench_pipeline_live.py), round-robin over the 50 channels, so each client gets
    ~100 frames/s and the gateway writes ~100,000 frames/s.
Phase 1: every client reads as fast as it can. Phase 2: the same with 10% of the clients reading
at 5 KB/s (a twentieth of their feed): they must be dropped (close 4008) while the others' delay
stays put and the gateway's memory stays bounded. Gateway RSS is sampled every 0.5 s.
N = 1,000 clients for 30 s per phase (200 clients for 5 s with --quick; its slow phase runs 20 s,
the time the slow clients take to fill their socket buffers and queue).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import random
import secrets
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import msgspec

ROOT = Path(__file__).resolve().parents[1]


def _dumps(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()


NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
CHANNELS = 50
RATE = 5_000
SLOW_FRACTION = 0.10
SLOW_READ_BPS = 5_000
WARMUP_S = 1.0
BUCKET_MS = 0.1  # delay histogram resolution


# ------------------------------------------------------------------------------ client process


class _ProbeData(msgspec.Struct, rename="camel"):
    sent_at: datetime | None = None


class _Probe(msgspec.Struct):
    type: str
    data: _ProbeData | None = None


_probe = msgspec.json.Decoder(_Probe)


def _mask(payload: bytes, opcode: int) -> bytes:
    """A masked client frame (RFC 6455 5.3)."""
    key = secrets.token_bytes(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    else:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    return header + key + masked


@dataclass
class ClientStats:
    """What one client process measured."""

    delays: dict[int, int] = field(default_factory=dict)  # bucket -> frames (fast clients)
    frames: int = 0
    slow_frames: int = 0
    subscribed: int = 0
    closed: dict[str, int] = field(default_factory=dict)  # "4008" / "reset" -> clients
    measuring: bool = False
    finished: bool = False


class BenchWsClient(asyncio.Protocol):
    """A minimal WebSocket client of /api/live, cheap enough for a thousand per process:
    handshake, subscribe to one channel, parse frames, answer pings and the close, and, when
    `slow`, read at SLOW_READ_BPS. Subclasses record what they want in `on_text`."""

    def __init__(self, port: int, channel: str, slow: bool) -> None:
        self.port, self.channel, self.slow = port, channel, slow
        self.buf = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.close_code: int | None = None
        self.lost_early = False
        self.ready = asyncio.get_running_loop().create_future()

    def on_text(self, probe: _Probe, now: float) -> None:
        """A text frame from the gateway, decoded, received at `now` (epoch seconds)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.transport.write(
            f"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(bytes(buf[:200]).decode(errors="replace")))
                return
            del buf[: end + 4]
            self.upgraded = True
            request = {"action": "subscribe", "channels": [self.channel]}
            self._send(msgspec.json.encode(request), 0x1)
        pos, size = 0, len(buf)
        now = time.time()
        while size - pos >= 2:
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            opcode = buf[pos] & 0x0F
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            if opcode == 0x1:
                probe = _probe.decode(payload)
                if probe.type == "subscribed" and not self.ready.done():
                    self.ready.set_result(None)
                else:
                    self.on_text(probe, now)
            elif opcode == 0x9:
                self._send(payload, 0xA)
            elif opcode == 0x8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._send(payload[:2], 0x8)
                if self.transport is not None:
                    self.transport.close()
        del buf[:pos]
        if self.slow and self.transport is not None and not self.transport.is_closing():
            # Read at SLOW_READ_BPS: stop reading for as long as this chunk should have taken.
            self.transport.pause_reading()
            asyncio.get_running_loop().call_later(len(data) / SLOW_READ_BPS, self._resume)

    def _resume(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def _send(self, payload: bytes, opcode: int) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_mask(payload, opcode))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before subscribing"))


class WsClient(BenchWsClient):
    """A client of this bench: counts message frames and records their delay."""

    def __init__(self, port: int, channel: str, slow: bool, stats: ClientStats) -> None:
        super().__init__(port, channel, slow)
        self.stats = stats

    def on_text(self, probe: _Probe, now: float) -> None:
        stats = self.stats
        if probe.type == "message" and probe.data and probe.data.sent_at:
            if self.slow:
                stats.slow_frames += 1
            else:
                stats.frames += 1
                if stats.measuring:
                    delay_ms = (now - probe.data.sent_at.timestamp()) * 1000.0
                    bucket = max(0, int(delay_ms / BUCKET_MS))
                    stats.delays[bucket] = stats.delays.get(bucket, 0) + 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_early = not self.stats.finished
        if self.close_code is not None:
            key = str(self.close_code)
        else:
            key = "closed_by_client" if self.stats.finished else "reset"
        self.stats.closed[key] = self.stats.closed.get(key, 0) + 1
        super().connection_lost(exc)


async def run_clients(args: argparse.Namespace) -> None:
    """Client process: connect, subscribe, say READY, measure for --seconds, print JSON."""
    loop = asyncio.get_running_loop()
    stats = ClientStats()
    clients: list[WsClient] = []
    first, last = (int(x) for x in args.ids.split(":"))
    slow = {int(x) for x in args.slow.split(",") if x}

    async def open_one(i: int) -> None:
        def factory() -> WsClient:
            return WsClient(args.port, f"bench{i % CHANNELS}", i in slow, stats)

        sock = socket.socket()
        if i in slow:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", args.port))
        _, protocol = await loop.create_connection(factory, sock=sock)
        clients.append(protocol)
        await protocol.ready
        stats.subscribed += 1

    for start in range(first, last, 50):
        await asyncio.gather(*(open_one(i) for i in range(start, min(start + 50, last))))
    print("READY", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # GO: the publisher starts
    await asyncio.sleep(WARMUP_S)
    stats.measuring = True
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.sleep(args.seconds)
    stats.measuring = False
    cpu = (time.process_time() - cpu0) / (time.monotonic() - t0)
    await loop.run_in_executor(None, sys.stdin.readline)  # STOP: the publisher is done
    await asyncio.sleep(0.5)  # frames still on their way
    stats.finished = True
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    await asyncio.sleep(0.2)
    result = {
        "delays": stats.delays,
        "frames": stats.frames,
        "slow_frames": stats.slow_frames,
        "subscribed": stats.subscribed,
        "closed": stats.closed,
        "slow_saw_4008": sum(1 for c in clients if c.slow and c.close_code == 4008),
        "slow_cut": sum(1 for c in clients if c.slow and c.lost_early and c.close_code is None),
        "cpu": cpu,
    }
    print(_dumps(result), flush=True)


# ------------------------------------------------------------------------------ publisher


async def run_publisher(args: argparse.Namespace) -> None:
    """Publisher process: RATE message events/s with ts = now, round-robin over the channels."""
    import nats  # noqa: PLC0415 - only this role needs it

    from twitch_archive.codec import encode_event  # noqa: PLC0415
    from twitch_archive.events import Badge, Emote, Message  # noqa: PLC0415
    from twitch_archive.subjects import Names  # noqa: PLC0415

    names = Names(ns=args.ns)
    subjects = [names.chat_subject(f"bench{c}", "message") for c in range(CHANNELS)]
    nc = await nats.connect(NATS_URL, name="bench-gateway-publisher", pending_size=8 * 1024**2)
    rng = random.Random(7)
    run = secrets.token_hex(4)  # event ids are unique, as Twitch's are (the gateway dedupes)
    words = ["hello", "Kappa", "PogChamp", "gg", "lol", "what", "is", "this", "stream", "LUL"]
    started = time.monotonic()
    sent, serial = 0, 0
    while (elapsed := time.monotonic() - started) < args.seconds:
        due = int(elapsed * args.rate)
        now_ms = int(time.time() * 1000)
        while sent < due:
            channel = sent % CHANNELS
            text = " ".join(rng.choices(words, k=rng.randint(3, 12)))
            serial += 1
            event = Message(
                id=f"{run}-{serial}",
                channel=f"bench{channel}",
                channel_id=str(100_000 + channel),
                ts=now_ms,
                message_id=f"{run}-{serial}",
                user_id=str(rng.randint(1, 200_000)),
                user_login=f"viewer{serial % 5000}",
                display_name=f"Viewer{serial % 5000}",
                text=text,
                badges=(Badge(name="subscriber", version="12"),),
                badge_info=(Badge(name="subscriber", version="14"),),
                emotes=(Emote(id="25", start=0, end=4),) if text.startswith("Kappa") else (),
                color="#1E90FF",
            )
            await nc.publish(subjects[channel], encode_event(event))
            sent += 1
        await asyncio.sleep(0.002)
    await nc.flush()
    await nc.close()
    print(_dumps({"sent": sent, "seconds": time.monotonic() - started}), flush=True)


# ------------------------------------------------------------------------------ parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def _metric(text: str, name: str, **labels: str) -> float:
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0.0


def _histogram(text: str, name: str) -> dict[float, float]:
    """The cumulative buckets of a histogram: upper bound -> count."""
    buckets: dict[float, float] = {}
    prefix = name + '_bucket{le="'
    for line in text.splitlines():
        if line.startswith(prefix):
            bound = line[len(prefix) : line.index('"', len(prefix))]
            buckets[float(bound)] = float(line.split()[-1])
    return buckets


def _histogram_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """Prometheus' histogram_quantile over the increase between two scrapes (linear in a bucket)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    if not total:
        return float("nan")
    target, low, below = q * total, 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= target:
            if bound == float("inf"):
                return low
            share = (target - below) / max(cumulative - below, 1e-9)
            return low + (bound - low) * share
        low, below = bound, cumulative
    return low


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int, kernel_only: bool = False) -> float:
    """CPU seconds a process used (user + system, or system only)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[12]) + (0 if kernel_only else int(fields[11]))
    return ticks / os.sysconf("SC_CLK_TCK")


def _quantile(hist: dict[int, int], q: float) -> float:
    total = sum(hist.values())
    if not total:
        return float("nan")
    target, seen = q * total, 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= target:
            return (bucket + 1) * BUCKET_MS
    return float("nan")


@dataclass
class Phase:
    """One measured run."""

    title: str
    clients: int
    slow: int
    p50: float = 0.0
    p99: float = 0.0
    p999: float = 0.0
    frames: int = 0
    sent: int = 0
    rss_start: float = 0.0
    rss_max: float = 0.0
    rss_end: float = 0.0
    gw_cpu: float = 0.0
    gw_sys: float = 0.0
    client_cpu: float = 0.0
    slow_saw_4008: int = 0
    slow_cut: int = 0
    dropped_other: int = 0
    expected: int = 0
    seconds: float = 0.0
    drop_s: float | None = None
    server_p50: float = 0.0
    server_p99: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


async def _phase(
    port: int, gw_pid: int, ns: str, clients: int, slow_fraction: float, seconds: float
) -> Phase:
    slow_ids = set(random.Random(1).sample(range(clients), int(clients * slow_fraction)))
    before = _get(f"http://127.0.0.1:{port}/metrics")
    procs = []
    halves = [(0, clients // 2), (clients // 2, clients)]
    for first, last in halves:
        slow = ",".join(str(i) for i in sorted(slow_ids) if first <= i < last)
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--role", "clients", "--port", str(port),
                "--ids", f"{first}:{last}", "--slow", slow, "--seconds", str(seconds),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
        )  # fmt: skip
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if line.strip() != b"READY":
            raise RuntimeError(f"client process failed to start: {line!r}")
    phase = Phase(
        title="10% slow readers" if slow_ids else "all clients read",
        clients=clients,
        slow=len(slow_ids),
    )
    phase.rss_start = _rss_mb(gw_pid)
    publisher = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--role", "publisher", "--ns", ns, "--rate", str(RATE),
        "--seconds", str(seconds + WARMUP_S), stdout=subprocess.PIPE,
    )  # fmt: skip
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"GO\n")
        await proc.stdin.drain()
    cpu0, sys0, t0 = _cpu_s(gw_pid), _cpu_s(gw_pid, kernel_only=True), time.monotonic()
    rss = [phase.rss_start]
    published = asyncio.ensure_future(publisher.communicate())
    while not published.done():
        rss.append(_rss_mb(gw_pid))
        if slow_ids and phase.drop_s is None:
            text = _get(f"http://127.0.0.1:{port}/metrics")
            dropped = _metric(
                text, "archive_live_gateway_clients_dropped_total", reason="slow_consumer"
            ) - _metric(
                before, "archive_live_gateway_clients_dropped_total", reason="slow_consumer"
            )
            if dropped >= len(slow_ids):
                phase.drop_s = time.monotonic() - t0
        await asyncio.sleep(0.5)
    wall = time.monotonic() - t0
    phase.gw_cpu = (_cpu_s(gw_pid) - cpu0) / wall
    phase.gw_sys = (_cpu_s(gw_pid, kernel_only=True) - sys0) / wall
    sent = msgspec.json.decode(published.result()[0].splitlines()[-1])["sent"]
    phase.sent = sent
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"STOP\n")
        await proc.stdin.drain()
    outputs = [await proc.communicate() for proc in procs]
    phase.rss_max, phase.rss_end = max(rss), _rss_mb(gw_pid)
    per_channel = [sent // CHANNELS + (c < sent % CHANNELS) for c in range(CHANNELS)]
    phase.expected = sum(per_channel[i % CHANNELS] for i in range(clients) if i not in slow_ids)
    hist: dict[int, int] = {}
    closed: dict[str, int] = {}
    for output in outputs:
        result = msgspec.json.decode(output[0].splitlines()[-1])
        for bucket, count in result["delays"].items():
            hist[int(bucket)] = hist.get(int(bucket), 0) + count
        phase.frames += result["frames"]
        phase.client_cpu += result["cpu"]
        phase.slow_saw_4008 += result["slow_saw_4008"]
        phase.slow_cut += result["slow_cut"]
        for key, count in result["closed"].items():
            closed[key] = closed.get(key, 0) + count
    phase.extra["closed"] = closed
    phase.p50, phase.p99, phase.p999 = (_quantile(hist, q) for q in (0.5, 0.99, 0.999))
    after = _get(f"http://127.0.0.1:{port}/metrics")
    drops = {
        reason: _metric(after, "archive_live_gateway_clients_dropped_total", reason=reason)
        - _metric(before, "archive_live_gateway_clients_dropped_total", reason=reason)
        for reason in ("slow_consumer", "rate_limit", "heartbeat")
    }
    phase.extra["drops"] = drops
    phase.dropped_other = int(drops["rate_limit"] + drops["heartbeat"])
    phase.extra["gateway_slow_drops"] = int(drops["slow_consumer"])
    delay = "archive_live_gateway_delivery_delay_seconds"
    phase.server_p50, phase.server_p99 = (
        1000 * _histogram_quantile(_histogram(before, delay), _histogram(after, delay), q)
        for q in (0.5, 0.99)
    )
    phase.extra["nats_dropped"] = _metric(
        after, "archive_live_gateway_queue_dropped_total", queue="nats", reason="slow_consumer"
    ) - _metric(
        before, "archive_live_gateway_queue_dropped_total", queue="nats", reason="slow_consumer"
    )
    phase.seconds = seconds
    return phase


async def main_parent(args: argparse.Namespace) -> int:
    clients = args.clients or (200 if args.quick else 1_000)
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    slow_seconds = max(seconds, 20.0)
    ns = f"bench{secrets.token_hex(3)}."
    port = _free_port()
    env = {
        **os.environ,
        "NATS_URL": NATS_URL,
        "NATS_NAMESPACE": ns,
        "GATEWAY_PORT": str(port),
        "LOG_LEVEL": "warning",
    }
    profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
    gateway = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything runs
        [sys.executable, *profile, "-m", "archive_live_gateway"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError):
                _get(f"http://127.0.0.1:{port}/readyz")
                break
            if time.monotonic() > deadline or gateway.poll() is not None:
                print("gateway did not become ready (is NATS running? `make services`)")
                return 1
            await asyncio.sleep(0.2)
        idle_rss = _rss_mb(gateway.pid)
        load = os.getloadavg()[0]
        phases = []
        if args.phase in ("both", "fast"):
            phases.append(await _phase(port, gateway.pid, ns, clients, 0.0, seconds))
        if args.phase in ("both", "slow"):
            phases.append(await _phase(port, gateway.pid, ns, clients, SLOW_FRACTION, slow_seconds))
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
    _print(phases, clients, idle_rss, load)
    return 0


def _print(phases: list[Phase], clients: int, idle_rss: float, load: float) -> None:
    print(
        f"\nLive gateway fan-out: {clients:,} WebSocket clients over {CHANNELS} channels, "
        f"{RATE:,} message events/s published straight to NATS core with ts = now (not the "
        "full simulator -> ingestor -> JetStream pipeline); gateway, 2 client processes, "
        f"publisher and nats-server share {os.cpu_count()} cores (load average before: "
        f"{load:.1f})"
    )
    header = (
        f"{'phase':<18} {'s':>3} {'events':>8} {'fast got':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'p99.9':>7} {'gw RSS MB':>14} {'gw CPU':>7} {'cli CPU':>8} {'slow dropped':>14} "
        f"{'other':>6}"
    )
    print(header)
    print("-" * len(header))
    for p in phases:
        got = f"{p.frames / max(1, p.expected):.2%}"
        rss = f"{p.rss_start:.0f}/{p.rss_max:.0f}/{p.rss_end:.0f}"
        slow = f"{p.extra['gateway_slow_drops']}/{p.slow}" if p.slow else "-"
        if p.slow and p.drop_s is not None:
            slow += f" in {p.drop_s:.0f}s"
        print(
            f"{p.title:<18} {p.seconds:>3.0f} {p.sent:>8,} {got:>9} {p.p50:>7.1f} {p.p99:>7.1f} "
            f"{p.p999:>7.1f} {rss:>14} {p.gw_cpu:>7.0%} {p.client_cpu:>8.0%} {slow:>14} "
            f"{p.dropped_other:>6}"
        )
    print(
        f"fast got: frames the reading clients received / events of their channels published "
        f"(100% = none lost). Delay: client receive time - data.sentAt over the timed window "
        f"after a {WARMUP_S:.0f} s warm-up, reading clients only (ts has ms precision: +0-1 ms). "
        f"gw RSS: start/max/end of the phase (idle: {idle_rss:.0f} MB). CPU: share of one core. "
        "slow dropped: closed by the gateway as slow consumers (4008) / slow clients, and when "
        "the last one was. other: rate-limit and heartbeat drops."
    )
    for p in phases:
        print(
            f"  {p.title}: the gateway's own delivery-delay histogram (event ts -> socket write, "
            f"all clients): p50 {p.server_p50:.0f} ms, p99 {p.server_p99:.0f} ms; gateway CPU "
            f"{p.gw_cpu:.0%} of a core, {p.gw_sys:.0%} in the kernel (mostly socket writes)"
        )
        print(
            f"  {p.title}: connections ended {p.extra['closed']} (slow clients: "
            f"{p.slow_saw_4008} read the 4008 close frame, {p.slow_cut} were cut); gateway drops "
            f"{ {k: int(v) for k, v in p.extra['drops'].items()} }; events NATS dropped for "
            f"the gateway: {p.extra['nats_dropped']:.0f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 clients, 5 s")
    parser.add_argument("--clients", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--phase", choices=["both", "fast", "slow"], default="both")
    parser.add_argument("--profile", default="", help="run the gateway under cProfile, to PATH")
    parser.add_argument("--role", choices=["parent", "clients", "publisher"], default="parent")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ids", default="")
    parser.add_argument("--slow", default="")
    parser.add_argument("--ns", default="")
    parser.add_argument("--rate", type=int, default=RATE)
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
    if args.role == "publisher":
        runner(run_publisher(args))
        return 0
    return int(runner(main_parent(args)))


if __name__ == "__main__":
    sys.exit(main())
