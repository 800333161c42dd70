"""PostgreSQL connections for every service: the pool factory, msgspec JSON codecs, a ping."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import asyncpg
import msgspec

_JSONB_VERSION = b"\x01"
"""jsonb's binary wire format is a version byte followed by the JSON text."""

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + _encoder.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    if data[:1] != _JSONB_VERSION:
        raise ValueError(f"unsupported jsonb format version {data[:1]!r}")
    return _decoder.decode(data[1:])


def _encode_json(value: Any) -> bytes:
    return _encoder.encode(value)


def _decode_json(data: bytes) -> Any:
    return _decoder.decode(data)


async def init_connection(conn: asyncpg.Connection[Any]) -> None:
    """Install the json/jsonb codecs (msgspec) on a connection; pools run it on every new one.

    The codecs use the binary format so that `copy_records_to_table` (binary COPY) accepts Python
    values for jsonb columns too. Anything msgspec encodes works, Structs included.
    """
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_encode_jsonb, decoder=_decode_jsonb, format="binary"
    )
    await conn.set_type_codec(
        "json", schema="pg_catalog", encoder=_encode_json, decoder=_decode_json, format="binary"
    )


async def create_pool(
    database_url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    command_timeout: float | None = 30.0,
    statement_cache_size: int = 100,
    application_name: str = "twitch-archive",
    server_settings: Mapping[str, str] | None = None,
) -> asyncpg.Pool[asyncpg.Record]:
    """Open a connection pool with the archive's codecs and session settings.

    Args:
        command_timeout: default per-statement timeout in seconds, client side (None: no limit).
        statement_cache_size: prepared statements kept per connection; 0 behind a transaction-mode
            pgbouncer, which cannot keep them.
        application_name: shown in pg_stat_activity; pass the service name.
        server_settings: extra session settings, applied after (and overriding) the defaults.
    """
    settings = {
        "application_name": application_name,
        # asyncpg prepares every query; after five runs PostgreSQL may switch a prepared statement
        # to a generic plan, which made full-text search 3x slower and cannot prune partitions at
        # plan time (measured.md). Planning each execution costs far less here.
        "plan_cache_mode": "force_custom_plan",
        # The archive's hot indexes live in memory or on SSD, where a random page read costs
        # little more than a sequential one. With the default of 4 the planner ANDs a whole
        # month of a word's full-text postings with a channel's hour instead of reading that
        # hour's few rows: 5 ms against 0.5 ms per search window (docs/performance.md).
        "random_page_cost": "1.1",
        **(server_settings or {}),
    }
    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        statement_cache_size=statement_cache_size,
        server_settings=settings,
        init=init_connection,
    )


async def ping(
    db: asyncpg.Pool[asyncpg.Record] | asyncpg.Connection[asyncpg.Record],
    timeout: float = 1.0,  # noqa: ASYNC109 - one bound for pool acquire + query, as /readyz wants
) -> bool:
    """True when the database answers `SELECT 1` within `timeout` seconds (for /readyz)."""
    try:
        async with asyncio.timeout(timeout):
            return bool(await db.fetchval("SELECT 1") == 1)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
