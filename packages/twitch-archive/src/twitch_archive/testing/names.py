"""Per-run names, so test runs sharing one PostgreSQL, NATS and Redis never see each other's data.

A run id is the pid, 6 random hex digits and the xdist worker id (`12345a1b2c3`, `12345a1b2c3gw0`).
Database names also carry the run's start time, so a later run can sweep what a crashed run left.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import time
from collections.abc import Mapping
from typing import Final

DATABASE_PREFIX: Final = "archive_t"
"""Every test database name starts with this; nothing else on the server should."""

# archive_t<runid>_<epoch>_tpl | archive_t<runid>_<epoch>_<n>; anything else is never swept.
_TEST_DATABASE = re.compile(r"archive_t(?P<run>[0-9a-z]+)_(?P<epoch>[0-9]{10})_(?:tpl|[0-9]+)")
# Streams and KV buckets of a test namespace: T<runid>_CHAT, KV_t<runid>_channels.
_TEST_STREAM = re.compile(
    r"(?:KV_|OBJ_)?t(?P<run>[0-9]+[0-9a-f]{6}(?:[a-z]{1,8}[0-9]{1,6})?)_.+", re.IGNORECASE
)
_WORKER = re.compile(r"[a-z]{1,8}[0-9]{1,6}")  # xdist: gw0, gw1, ...


def new_run_id(
    pid: int | None = None, token: str | None = None, environ: Mapping[str, str] = os.environ
) -> str:
    """A fresh run id: pid, 6 random hex digits, then the xdist worker id if there is one."""
    worker = environ.get("PYTEST_XDIST_WORKER", "").lower()
    if worker and _WORKER.fullmatch(worker) is None:
        raise ValueError(f"unexpected PYTEST_XDIST_WORKER {worker!r}: expected like 'gw0'")
    pid = os.getpid() if pid is None else pid
    token = secrets.token_hex(3) if token is None else token
    return f"{pid}{token}{worker}".lower()


@dataclasses.dataclass(frozen=True, slots=True)
class RunNames:
    """Every name one test run owns on the shared servers."""

    run_id: str
    started: int
    """Unix time the run started, written into database names for the stale-database sweep."""

    @classmethod
    def new(cls) -> RunNames:
        """Names for a run starting now in this process."""
        return cls(run_id=new_run_id(), started=int(time.time()))

    @property
    def database_prefix(self) -> str:
        """What every database of this run is called: `archive_t<runid>_`."""
        return f"{DATABASE_PREFIX}{self.run_id}_"

    @property
    def template_database(self) -> str:
        """The migrated database the run's test databases are cloned from."""
        return f"{self.database_prefix}{self.started}_tpl"

    def test_database(self, number: int) -> str:
        """The database of the run's `number`-th test that asks for one."""
        return f"{self.database_prefix}{self.started}_{number}"

    @property
    def nats_namespace(self) -> str:
        """Prefix of every subject (and, transformed, stream and bucket) of this run."""
        return f"t{self.run_id}."

    @property
    def redis_prefix(self) -> str:
        """Prefix of every Redis key of this run."""
        return f"test:{self.run_id}:"

    def owns_stream(self, stream: str) -> bool:
        """Whether a JetStream stream (KV buckets are streams `KV_<bucket>`) belongs to this run."""
        match = _TEST_STREAM.fullmatch(stream)
        return match is not None and match["run"].lower() == self.run_id


def database_started_at(name: str) -> int | None:
    """The unix start time encoded in a test database's name, or None if it is not one of ours."""
    match = _TEST_DATABASE.fullmatch(name)
    return int(match["epoch"]) if match else None


def is_test_stream(stream: str) -> bool:
    """Whether a stream name belongs to some test run's namespace (production names never do)."""
    return _TEST_STREAM.fullmatch(stream) is not None
