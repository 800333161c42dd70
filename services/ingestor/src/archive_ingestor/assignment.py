"""Which channels this replica joins: the desired set in KV, live replicas, rendezvous hashing.

The desired set is the keys of the channels bucket (seeded from CHANNELS on the bucket's very first
use). Every replica heartbeats into the ingestors bucket; the live replicas are those heard from
within HEARTBEAT_TTL_S. Each channel goes to the REPLICATION replicas with the highest
hash(replica, channel): every replica computes the same answer alone, and a replica joining or
leaving moves only the channels it wins or held. A channel handed over stays joined here until its
new owners report they have joined everything of the same view (make-before-break), at most
HANDOVER_MAX_S. See docs/adr/0006-channel-assignment.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Iterable, Sequence, Set

import msgspec
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from archive_ingestor.gaps import GapTracker
from archive_ingestor.metrics import IngestorMetrics
from archive_ingestor.pool import Pool
from archive_ingestor.settings import IngestorSettings
from twitch_archive.bus import ensure_bucket
from twitch_archive.control import CHANNEL_KV_VALUE, decode_control
from twitch_archive.subjects import Names, validate_channel

log = structlog.get_logger("archive_ingestor.assignment")

KV_DELETE_OPS = frozenset({"DEL", "PURGE"})
TICK_S = 0.25
"""How often heartbeats, liveness and handovers are checked."""
RECOMPUTE_DEBOUNCE_S = 0.05
"""A burst of KV updates (the API adding many channels) is applied once."""


# ---------------------------------------------------------------------- rendezvous hashing


def score(replica: str, channel: str) -> int:
    """The rendezvous weight of `replica` for `channel` (same on every machine and run)."""
    digest = hashlib.blake2b(f"{replica}\x1f{channel}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owners(channel: str, replicas: Iterable[str], replication: int) -> list[str]:
    """The `replication` replicas that should join `channel`, best first."""
    ranked = sorted(replicas, key=lambda replica: (score(replica, channel), replica), reverse=True)
    return ranked[:replication]


def assign(channels: Iterable[str], replicas: Sequence[str], me: str, replication: int) -> set[str]:
    """The channels `me` owns among `replicas` (which must include `me`)."""
    if replication >= len(replicas):
        return set(channels)
    mine: set[str] = set()
    for channel in channels:
        mine_score = score(me, channel)
        better = 0
        for replica in replicas:
            if replica != me and (score(replica, channel), replica) > (mine_score, me):
                better += 1
                if better >= replication:
                    break
        if better < replication:
            mine.add(channel)
    return mine


def view_of(replicas: Iterable[str]) -> str:
    """A short fingerprint of a live replica set: replicas that agree on it assign alike."""
    text = "\x1f".join(sorted(replicas))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def seed_channels(raw: Iterable[str]) -> list[str]:
    """CHANNELS as logins: `#Name` -> `name`; raises ValueError for an impossible login."""
    return sorted({validate_channel(item.strip().lstrip("#").lower()) for item in raw})


# ---------------------------------------------------------------------- wire formats


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True):
    """The value of a replica's key in the ingestors bucket."""

    id: str
    started_ms: int
    ts_ms: int
    view: str
    """view_of() the live set this replica assigned with."""
    settled: bool
    """Every channel it owns under `view` is joined (or failed and waits for a retry)."""
    assigned: int = 0
    joined: int = 0


_heartbeat_decoder = msgspec.json.Decoder(Heartbeat)


@dataclasses.dataclass
class _Peer:
    seen: float
    """Monotonic time of its last heartbeat here."""
    seen_ms: int
    """Wall-clock time (ms) of its last heartbeat here: a gap starts there if it dies."""
    beat: Heartbeat


@dataclasses.dataclass
class _Handover:
    owners: list[str]
    deadline: float


class Assignment:
    """Keeps the pool's channels equal to this replica's share of the desired set."""

    def __init__(
        self,
        *,
        nc: NatsClient,
        js: JetStreamContext,
        names: Names,
        settings: IngestorSettings,
        pool: Pool,
        gaps: GapTracker,
        metrics: IngestorMetrics,
    ) -> None:
        self._nc = nc
        self._js = js
        self._names = names
        self._settings = settings
        self._pool = pool
        self._gaps = gaps
        self._metrics = metrics
        self.me = settings.ingestor_id
        self.desired: set[str] = set()
        self.mine: set[str] = set()
        self.view = ""
        self.peers: dict[str, _Peer] = {}
        self._live: list[str] = []
        self._handover: dict[str, _Handover] = {}
        self._leaving = False
        self._started_ms = time.time_ns() // 1_000_000
        self._channels_kv: KeyValue | None = None
        self._ingestors_kv: KeyValue | None = None
        self._channels_ready = asyncio.Event()
        self._ingestors_ready = asyncio.Event()
        self._dirty = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._control_sub: Subscription | None = None
        self._last_put_ok = time.monotonic()
        self._last_put = 0.0
        self._last_beat: tuple[str, bool] | None = None
        metrics.channels_wanted.set_function(lambda: len(self.desired))
        metrics.channels_assigned.set_function(lambda: len(self.mine))
        metrics.replicas.set_function(lambda: len(self._live))

    # ------------------------------------------------------------------ lifecycle

    async def start(self, ready_timeout_s: float = 10.0) -> None:
        """Open (or create) the buckets, seed, heartbeat, read both buckets and assign."""
        settings = self._settings
        replicas = settings.nats_replicas
        self._channels_kv = await ensure_bucket(
            self._js, self._names.channels_bucket, replicas=replicas
        )
        self._ingestors_kv = await ensure_bucket(
            self._js,
            self._names.ingestors_bucket,
            ttl_s=max(60.0, 6 * settings.heartbeat_ttl_s),
            replicas=replicas,
        )
        await self._seed()
        self.view = view_of([self.me])
        await self._put_heartbeat()
        self._start_watchers()
        async with asyncio.timeout(ready_timeout_s):
            await self._channels_ready.wait()
            await self._ingestors_ready.wait()
        self._recompute()
        self._tasks["tick"] = asyncio.create_task(self._tick_loop(), name="assignment-tick")
        self._tasks["recompute"] = asyncio.create_task(
            self._recompute_loop(), name="assignment-recompute"
        )
        self._control_sub = await self._nc.subscribe(
            self._names.control_channels_changed, cb=self._on_control
        )

    def _start_watchers(self) -> None:
        for name, coro in (
            ("channels", self._watch_channels()),
            ("ingestors", self._watch_ingestors()),
        ):
            old = self._tasks.pop(name, None)
            if old is not None:
                old.cancel()
            self._tasks[name] = asyncio.create_task(coro, name=f"assignment-watch-{name}")

    def resync(self) -> None:
        """Read both buckets again from the start (after a NATS reconnect or a nudge)."""
        self._start_watchers()

    async def leave(self, timeout_s: float) -> None:
        """Stop heartbeating, hand every channel to the remaining replicas, wait (bounded)."""
        self._leaving = True
        tick = self._tasks.pop("tick", None)
        if tick is not None:
            tick.cancel()
        if self._ingestors_kv is not None:
            with contextlib.suppress(Exception):
                await self._ingestors_kv.delete(self.me)
        if not any(p for p in self._live if p != self.me):
            return
        self._recompute(deadline_s=min(timeout_s, self._settings.handover_max_s))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self._handover:
                    self._release_handovers()
                    await asyncio.sleep(0.05)
        log.info("handover_done", left_behind=len(self._handover))

    async def close(self) -> None:
        """Stop every task and the control subscription."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        if self._control_sub is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._control_sub.unsubscribe()

    # ------------------------------------------------------------------ seeding

    async def _seed(self) -> None:
        """Write CHANNELS into the channels bucket if it has never held anything."""
        kv = self._channels_kv
        assert kv is not None
        info = await self._js.stream_info(f"KV_{self._names.channels_bucket}")
        if info.state.last_seq != 0:
            return
        channels = seed_channels(self._settings.channels)
        for channel in channels:
            with contextlib.suppress(Exception):  # another replica seeding at the same moment
                await kv.create(channel, CHANNEL_KV_VALUE)
        log.info("channels_seeded", bucket=self._names.channels_bucket, channels=len(channels))

    # ------------------------------------------------------------------ watching the buckets

    async def _watch_channels(self) -> None:
        kv = self._channels_kv
        assert kv is not None
        while True:
            try:
                watcher = await kv.watchall()
                snapshot: set[str] | None = set()
                async for entry in watcher:
                    if entry is None:
                        if snapshot is not None:
                            self.desired, snapshot = snapshot, None
                            self._channels_ready.set()
                            self._dirty.set()
                        continue
                    target = snapshot if snapshot is not None else self.desired
                    key = entry.key
                    if entry.operation in KV_DELETE_OPS:
                        target.discard(key)
                    else:
                        try:
                            target.add(validate_channel(key))
                        except ValueError:
                            log.warning("channel_key_invalid", key=key)
                            continue
                    if snapshot is None:
                        self._dirty.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any watch failure: log, wait, watch again
                log.warning("channels_watch_failed", error=repr(exc))
                await asyncio.sleep(1.0)

    async def _watch_ingestors(self) -> None:
        kv = self._ingestors_kv
        assert kv is not None
        while True:
            try:
                watcher = await kv.watchall()
                async for entry in watcher:
                    if entry is None:
                        self._ingestors_ready.set()
                        self._dirty.set()
                        continue
                    self._on_heartbeat(entry.key, entry.operation, entry.value)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any watch failure: log, wait, watch again
                log.warning("ingestors_watch_failed", error=repr(exc))
                await asyncio.sleep(1.0)

    def _on_heartbeat(self, key: str, operation: str | None, value: bytes | None) -> None:
        if key == self.me:
            return
        if operation in KV_DELETE_OPS:
            if self.peers.pop(key, None) is not None:
                log.info("replica_left", replica=key)
                self._dirty.set()
            return
        try:
            beat = _heartbeat_decoder.decode(value or b"")
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("heartbeat_invalid", replica=key)
            return
        known = key in self.peers
        self.peers[key] = _Peer(time.monotonic(), time.time_ns() // 1_000_000, beat)
        if not known:
            log.info("replica_seen", replica=key)
            self._dirty.set()

    async def _on_control(self, msg: Msg) -> None:
        request = decode_control(msg.data)
        if request.action == "rejoin" and request.channel:
            if request.channel in self.mine:
                done = self._pool.rejoin(request.channel)
                log.info("rejoin_requested", channel=request.channel, rejoining=done)
        else:
            self.resync()

    # ------------------------------------------------------------------ assigning

    def live_replicas(self) -> list[str]:
        live = set(self.peers)
        if not self._leaving:
            live.add(self.me)
        return sorted(live)

    async def _recompute_loop(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(RECOMPUTE_DEBOUNCE_S)
            self._dirty.clear()
            self._recompute()

    def _recompute(
        self, lost: dict[str, int] | None = None, deadline_s: float | None = None
    ) -> None:
        settings = self._settings
        live = self.live_replicas()
        previous_live, previous_mine = self._live, self.mine
        mine = (
            assign(self.desired, live, self.me, settings.replication) if self.me in live else set()
        )
        if lost and previous_live:
            self._note_replica_loss(mine - previous_mine, previous_live, lost)
        deadline = time.monotonic() + (
            settings.handover_max_s if deadline_s is None else deadline_s
        )
        for channel in previous_mine - mine:
            if channel in self.desired and live:
                self._handover[channel] = _Handover([], deadline)
        for channel in list(self._handover):
            if channel in mine or channel not in self.desired or not live:
                del self._handover[channel]
            else:
                self._handover[channel].owners = [
                    r for r in owners(channel, live, settings.replication) if r != self.me
                ]
        self.mine = mine
        self._live = live
        self.view = view_of(live)
        self._release_handovers(apply=False)
        self._apply()
        if mine != previous_mine or live != previous_live:
            log.info(
                "assignment_changed",
                replicas=len(live),
                view=self.view,
                wanted=len(self.desired),
                mine=len(mine),
                handing_over=len(self._handover),
            )

    def _note_replica_loss(
        self, gained: Set[str], previous_live: Sequence[str], lost: dict[str, int]
    ) -> None:
        """Channels whose every previous owner died: the gap starts at their last heartbeat."""
        replication = self._settings.replication
        for channel in gained:
            previous = [r for r in owners(channel, previous_live, replication) if r != self.me]
            if previous and all(r in lost for r in previous):
                self._gaps.lost(channel, max(lost[r] for r in previous), "replica_lost")

    def _release_handovers(self, *, apply: bool = True) -> None:
        if not self._handover:
            return
        now = time.monotonic()
        released = [
            channel
            for channel, handover in self._handover.items()
            if now >= handover.deadline or self._settled(handover.owners)
        ]
        for channel in released:
            del self._handover[channel]
        if released and apply:
            self._apply()

    def _settled(self, replicas: Iterable[str]) -> bool:
        for replica in replicas:
            peer = self.peers.get(replica)
            if peer is None or peer.beat.view != self.view or not peer.beat.settled:
                return False
        return True

    def _apply(self) -> None:
        self._pool.set_channels(self.mine | self._handover.keys())

    # ------------------------------------------------------------------ heartbeats

    async def _tick_loop(self) -> None:
        settings = self._settings
        while True:
            now = time.monotonic()
            beat = (self.view, self._pool.pending_count() == 0)
            if beat != self._last_beat or now - self._last_put >= settings.heartbeat_s:
                await self._put_heartbeat()
            if now - self._last_put_ok <= settings.heartbeat_ttl_s:
                # Only expire others while we can reach NATS ourselves: a cut-off replica
                # would otherwise take every channel.
                cutoff = now - settings.heartbeat_ttl_s
                dead = {r: p.seen_ms for r, p in self.peers.items() if p.seen < cutoff}
                if dead:
                    for replica in dead:
                        del self.peers[replica]
                    log.warning("replica_lost", replicas=sorted(dead))
                    self._recompute(lost=dead)
            self._release_handovers()
            await asyncio.sleep(TICK_S)

    async def _put_heartbeat(self) -> None:
        kv = self._ingestors_kv
        assert kv is not None
        settled = self._pool.pending_count() == 0
        beat = Heartbeat(
            id=self.me,
            started_ms=self._started_ms,
            ts_ms=time.time_ns() // 1_000_000,
            view=self.view,
            settled=settled,
            assigned=len(self.mine),
            joined=self._pool.joined_count(),
        )
        self._last_put = time.monotonic()
        try:
            await kv.put(self.me, msgspec.json.encode(beat))
        except Exception as exc:  # noqa: BLE001 - a missed beat is retried on the next tick
            self._metrics.heartbeat_failures.inc()
            log.warning("heartbeat_failed", error=repr(exc))
            return
        self._last_put_ok = time.monotonic()
        self._last_beat = (self.view, settled)
