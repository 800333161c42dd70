"""Who watches what on this replica, and the fan-out of one frame to every watcher of a channel.

Keys are channel logins, plus `*` for the firehose. A key is *wanted* (the NATS bridge holds a
subscription for it) while it has a watcher or a subscribe request is on its way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from archive_live_gateway.metrics import FRAME_TYPES, GatewayMetrics
from archive_live_gateway.protocol import FIREHOSE, Frame

if TYPE_CHECKING:
    from archive_live_gateway.client import Client


class Hub:
    """The connections of this replica and the watchers of each key."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics
        self.clients: set[Client] = set()
        self._watchers: dict[str, set[Client]] = {}
        self._reserved: Counter[str] = Counter()
        self._subscriptions = 0
        self._sent = {kind: metrics.frames_sent.labels(kind) for kind in FRAME_TYPES}

    # ------------------------------------------------------------------ connections

    def connect(self, client: Client) -> None:
        """A new connection."""
        self.clients.add(client)
        self.metrics.connections.set(len(self.clients))

    def disconnect(self, client: Client) -> list[str]:
        """A connection ended: it stops watching; returns the keys nobody watches any more."""
        self.clients.discard(client)
        self.metrics.connections.set(len(self.clients))
        return self.unwatch(client, tuple(client.channels))

    # ------------------------------------------------------------------ watching

    def wanted(self, key: str) -> bool:
        """True while `key` has a watcher or a pending subscribe."""
        return key in self._watchers or self._reserved[key] > 0

    def watched(self) -> frozenset[str]:
        """The keys that have at least one watcher."""
        return frozenset(self._watchers)

    def watchers(self, key: str) -> int:
        """How many clients watch `key`."""
        return len(self._watchers.get(key, ()))

    def reserve(self, keys: Iterable[str]) -> None:
        """A subscribe to `keys` is on its way: keep them wanted until `release`."""
        self._reserved.update(keys)

    def release(self, keys: Iterable[str]) -> None:
        """The subscribe to `keys` is done (watch them now) or failed."""
        self._reserved.subtract(keys)
        self._reserved = +self._reserved  # forget the zeros

    def watch(self, client: Client, keys: Iterable[str]) -> None:
        """`client` receives the events of `keys` from now on."""
        for key in keys:
            if key in client.channels:
                continue
            client.channels.add(key)
            self._watchers.setdefault(key, set()).add(client)
            self._subscriptions += 1
            if key == FIREHOSE:
                client.firehose = True
        self._update_gauges()

    def unwatch(self, client: Client, keys: Iterable[str]) -> list[str]:
        """`client` stops receiving `keys`; returns those nobody watches any more."""
        lost: list[str] = []
        for key in keys:
            if key not in client.channels:
                continue
            client.channels.discard(key)
            self._subscriptions -= 1
            if key == FIREHOSE:
                client.firehose = False
            watchers = self._watchers.get(key)
            if watchers is None:
                continue
            watchers.discard(client)
            if not watchers:
                del self._watchers[key]
                lost.append(key)
        self._update_gauges()
        return lost

    def _update_gauges(self) -> None:
        self.metrics.subscriptions.set(self._subscriptions)
        self.metrics.channels_watched.set(len(self._watchers) - (FIREHOSE in self._watchers))

    # ------------------------------------------------------------------ fan-out

    def deliver(self, key: str, frame: Frame) -> int:
        """Queue one shared frame for every watcher of `key`; returns how many took it.

        A firehose client also watching a channel gets that channel's events once, through the
        firehose subscription.
        """
        watchers = self._watchers.get(key)
        if not watchers:
            return 0
        sent = 0
        if key == FIREHOSE:
            for client in watchers:
                sent += client.send(frame)
        else:
            for client in watchers:
                if not client.firehose:
                    sent += client.send(frame)
        if sent:
            self._sent[frame.kind].inc(sent)
        return sent

    # ------------------------------------------------------------------ queue sizes (scrapes)

    def queued_frames(self) -> int:
        """Frames waiting in all client queues."""
        return sum(len(client.queue) for client in self.clients)

    def queue_capacity(self) -> int:
        """Frames all client queues could hold."""
        return sum(client.capacity for client in self.clients)

    def fullest_queue(self) -> int:
        """Frames waiting in the fullest client queue."""
        return max((len(client.queue) for client in self.clients), default=0)
