"""Structured logging for every process: pretty on a terminal, else one JSON object per line."""

from __future__ import annotations

import logging as stdlib_logging
import sys
from typing import Any, TextIO

import msgspec
import structlog

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def _json_bytes(obj: Any, **_: Any) -> bytes:
    return msgspec.json.encode(obj, enc_hook=repr)


def configure(
    service: str, level: str = "info", *, json: bool | None = None, stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library's logging (aiohttp, asyncpg, nats) to stderr.

    Args:
        service: bound to every line as `service=`.
        level: debug, info, warning or error.
        json: force JSON (True) or console (False) output; by default JSON unless stderr is a TTY.
        stream: where lines go; standard error by default.
    """
    numeric = _LEVELS.get(level.lower(), 20)
    out = sys.stderr if stream is None else stream
    as_json = (not out.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if as_json:
        renderer: Any = structlog.processors.JSONRenderer(serializer=_json_bytes)
        final: list[Any] = [structlog.processors.dict_tracebacks, renderer]
        factory: Any = structlog.BytesLoggerFactory(out.buffer)
    else:
        renderer = structlog.dev.ConsoleRenderer()
        final = [renderer]
        factory = structlog.PrintLoggerFactory(out)
    structlog.configure(
        processors=[*shared, *final],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=factory,
        cache_logger_on_first_use="pytest" not in sys.modules,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)

    # Third-party libraries log through the standard library: same pre-chain, same stream.
    foreign_renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *shared,
            structlog.stdlib.add_logger_name,
            (
                structlog.processors.dict_tracebacks
                if as_json
                else structlog.processors.format_exc_info
            ),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            foreign_renderer,
        ],
    )
    handler = stdlib_logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = stdlib_logging.root
    root.handlers[:] = [handler]
    root.setLevel(numeric)
