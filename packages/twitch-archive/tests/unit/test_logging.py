"""Structured logging: JSON lines off a terminal, service bound, standard library routed through."""

from __future__ import annotations

import io
import logging as stdlib_logging
from collections.abc import Iterator

import msgspec
import pytest
import structlog

from twitch_archive.logging import configure


@pytest.fixture
def stderr() -> Iterator[io.TextIOWrapper]:
    """A text stream over a byte buffer, standing in for a non-terminal standard error."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    yield stream
    structlog.reset_defaults()
    stdlib_logging.root.handlers.clear()


def _lines(stream: io.TextIOWrapper) -> list[dict[str, object]]:
    stream.flush()
    raw = stream.buffer.getvalue()  # type: ignore[attr-defined]  # BytesIO under the wrapper
    return [msgspec.json.decode(line) for line in raw.splitlines() if line]


def test_json_lines_carry_service_level_and_fields(stderr: io.TextIOWrapper) -> None:
    """Off a terminal each event is one JSON object with service, level, timestamp and data."""
    configure(stream=stderr, service="writer", level="info")
    structlog.get_logger().info("batch_flushed", rows=12)
    [line] = _lines(stderr)
    assert line["event"] == "batch_flushed"
    assert line["rows"] == 12
    assert line["service"] == "writer"
    assert line["level"] == "info"
    assert "timestamp" in line


def test_level_filters_lower_events(stderr: io.TextIOWrapper) -> None:
    """Events below the configured level are dropped."""
    configure(stream=stderr, service="api", level="warning")
    log = structlog.get_logger()
    log.info("quiet")
    log.warning("loud")
    assert [line["event"] for line in _lines(stderr)] == ["loud"]


def test_standard_library_logs_join_the_same_stream(stderr: io.TextIOWrapper) -> None:
    """Third-party loggers (aiohttp, asyncpg, nats) come out as JSON with the same service."""
    configure(stream=stderr, service="ingestor", level="info")
    third_party = stdlib_logging.getLogger("nats")  # noqa: TID251 - stands in for a library
    third_party.warning("reconnecting to %s", "127.0.0.1")
    [line] = _lines(stderr)
    assert line["event"] == "reconnecting to 127.0.0.1"
    assert line["service"] == "ingestor"
    assert line["logger"] == "nats"
