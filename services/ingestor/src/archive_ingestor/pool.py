"""Many channels over many connections: at most CHANNELS_PER_CONNECTION each, opened paced.

Channels fill the existing connections first (so holes left by removed channels are reused);
a connection left with no channel parts and closes. Channels never move between connections on
their own: moving one would cost a PART and a JOIN for nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Set

import structlog

from archive_ingestor.connection import IrcConnection, Shared

log = structlog.get_logger("archive_ingestor.pool")


class Pool:
    """The IRC connections of this replica and which channel is on which."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.per_connection = shared.settings.channels_per_connection
        self.connections: list[IrcConnection] = []
        self._where: dict[str, IrcConnection] = {}
        self._numbers = 0
        self._stopping: set[asyncio.Task[None]] = set()
        metrics = shared.metrics
        metrics.connections.set_function(
            lambda: sum(conn.open_sessions for conn in self.connections)
        )
        metrics.channels_joined.set_function(self.joined_count)

    @property
    def channels(self) -> Set[str]:
        return self._where.keys()

    def set_channels(self, wanted: Set[str]) -> None:
        """Join what is new in `wanted`, part what is no longer in it."""
        removed = [ch for ch in self._where if ch not in wanted]
        for channel in removed:
            self._where.pop(channel).remove(channel)
        added = sorted(ch for ch in wanted if ch not in self._where)
        if added:
            rooms = [c for c in self.connections if len(c.channels) < self.per_connection]
            for channel in added:
                while rooms and len(rooms[0].channels) >= self.per_connection:
                    rooms.pop(0)
                if not rooms:
                    rooms.append(self._new_connection())
                conn = rooms[0]
                conn.add(channel)
                self._where[channel] = conn
        for conn in [c for c in self.connections if not c.channels]:
            self.connections.remove(conn)
            task = asyncio.create_task(conn.stop(), name=f"irc-connection-{conn.index}-stop")
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)
        if removed or added:
            log.info(
                "channels_changed",
                added=len(added),
                removed=len(removed),
                channels=len(self._where),
                connections=len(self.connections),
            )

    def _new_connection(self) -> IrcConnection:
        self._numbers += 1
        conn = IrcConnection(self._numbers, self.shared)
        self.connections.append(conn)
        conn.start()
        return conn

    def rejoin(self, channel: str) -> bool:
        """PART and JOIN `channel` again if it is on one of our connections."""
        conn = self._where.get(channel)
        return conn is not None and conn.rejoin(channel)

    def joined_count(self) -> int:
        return sum(len(conn.joined_channels()) for conn in self.connections)

    def pending_count(self) -> int:
        """Channels wanted here but not joined yet (failed ones waiting for a retry excluded)."""
        return sum(conn.pending_count() for conn in self.connections)

    def open_connections(self) -> int:
        return sum(conn.open_sessions for conn in self.connections)

    async def stop(self) -> None:
        """Part every channel and close every connection."""
        connections, self.connections = self.connections, []
        self._where.clear()
        await asyncio.gather(
            *(conn.stop() for conn in connections), *self._stopping, return_exceptions=True
        )
