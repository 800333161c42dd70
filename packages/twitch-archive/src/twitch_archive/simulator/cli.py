"""`twitch-archive simulate`: serve the simulated Twitch IRC server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from twitch_archive.errors import ConfigError
from twitch_archive.settings import load
from twitch_archive.simulator.settings import DEFAULT_PORT, SimulatorSettings, parse_speed

HELP = f"""\
Serve a simulated Twitch IRC server (wss://irc-ws.chat.twitch.tv stand-in) for tests, demos and
load: IRC over WebSocket at ws://HOST:PORT/ and an HTTP control surface at /control/*.

It speaks Twitch's dialect (CAP, PASS/NICK with justinfanNNNN or oauth tokens, welcome numerics,
JOIN/PART with confirmations, PING/PONG, RECONNECT, the JOIN rate limit) and generates realistic
chat in the configured channels, with distributions learned from a real capture, or replays a raw
log. Every option also reads an environment variable (SIMULATOR_PORT, SIMULATOR_CHANNELS, ...);
options win. Valid OAuth tokens come only from SIMULATOR_OAUTH_TOKENS (comma-separated).

examples:
  twitch-archive simulate --channels forsen,xqc --rate 20 --skew 1
  twitch-archive simulate --channels a --replay log.txt.gz --speed 10
  curl -X POST localhost:{DEFAULT_PORT}/control/reconnect -d '{{"connections": "all"}}'

See docs/simulator.md for the control API.
"""

# option dest -> settings field (its environment variable is SIMULATOR_<FIELD>)
_FIELDS = {
    "host": "host",
    "port": "port",
    "channels": "channels",
    "auto_traffic": "auto_traffic",
    "rate": "rate",
    "skew": "skew",
    "seed": "seed",
    "profile": "profile",
    "replay": "replay_file",
    "replay_channels": "replay_channels",
    "speed": "speed",
    "loop": "replay_loop",
    "join_limit": "join_limit",
    "join_window": "join_window_s",
    "join_limit_notice": "join_limit_notice",
    "ping_interval": "ping_interval_s",
    "pong_timeout": "pong_timeout_s",
    "reconnect_grace": "reconnect_grace_s",
    "record_sent": "record_sent",
    "max_buffered_lines": "max_buffered_lines",
    "slow_client": "slow_client",
    "frame_bytes": "frame_bytes",
    "stamp_on_write": "stamp_on_write",
    "log_level": "log_level",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `simulate` options to a (sub)parser; every default comes from the environment."""
    add = parser.add_argument
    none = argparse.SUPPRESS
    add("--host", default=none, help="interface to listen on (default 127.0.0.1)")
    add("--port", type=int, default=none, help=f"port; 0 picks a free one (default {DEFAULT_PORT})")
    add("--channels", default=none, metavar="A,B", help="channels with generated traffic")
    add(
        "--auto-traffic",
        action="store_true",
        default=none,
        help="also generate traffic in any other channel a client joins",
    )
    add(
        "--rate",
        type=float,
        default=none,
        metavar="N",
        help="mean generated lines/s per channel (default 1; 0 for none)",
    )
    add(
        "--skew",
        type=float,
        default=none,
        metavar="S",
        help="Zipf exponent of rates over channels, busiest first (default 0: equal)",
    )
    add("--seed", type=int, default=none, help="seed: same seed, same events and ids")
    add("--profile", default=none, metavar="FILE", help="traffic profile JSON (default built-in)")
    add("--replay", default=none, metavar="FILE", help="raw IRC log (plain or .gz) to replay")
    add(
        "--replay-channels",
        default=none,
        metavar="A,B",
        help="channels the replay goes to (default --channels)",
    )
    add(
        "--speed",
        default=none,
        metavar="X",
        help="replay pace: factor of the log's own gaps (10 = ten times faster) or 'max'",
    )
    add("--loop", action="store_true", default=none, help="replay the log over and over")
    add(
        "--join-limit",
        type=int,
        default=none,
        metavar="N",
        help="JOINs accepted per login per window (default 20)",
    )
    add(
        "--join-window",
        type=float,
        default=none,
        metavar="SECONDS",
        help="JOIN rate limit window (default 10)",
    )
    add(
        "--silent-join-limit",
        dest="join_limit_notice",
        action="store_false",
        default=none,
        help="refuse JOINs over the limit silently, as real Twitch does (default: NOTICE)",
    )
    add(
        "--ping-interval",
        type=float,
        default=none,
        metavar="SECONDS",
        help="seconds between server PINGs (default 300)",
    )
    add(
        "--pong-timeout",
        type=float,
        default=none,
        metavar="SECONDS",
        help="close a connection that does not PONG within this (default 10)",
    )
    add(
        "--reconnect-grace",
        type=float,
        default=none,
        metavar="SECONDS",
        help="seconds between RECONNECT and closing the connection (default 30)",
    )
    add(
        "--no-record",
        dest="record_sent",
        action="store_false",
        default=none,
        help="do not keep sent event ids (long load runs)",
    )
    add(
        "--max-buffered-lines",
        type=int,
        default=none,
        metavar="N",
        help="queued lines per connection before the slow-client policy (default 20000)",
    )
    add(
        "--slow-client",
        choices=("wait", "disconnect"),
        default=none,
        help="at the bound: pause the generator (wait, default) or disconnect like Twitch",
    )
    add("--frame-bytes", type=int, default=none, metavar="N", help="target WebSocket frame size")
    add(
        "--stamp-on-write",
        action="store_true",
        default=none,
        help="tmi-sent-ts of messages and notices is the moment their frame is written "
        "(delay measurements), not the moment they were generated",
    )
    add("--log-level", choices=("debug", "info", "warning", "error"), default=none)


def settings_from(
    args: argparse.Namespace, environ: dict[str, str] | None = None
) -> SimulatorSettings:
    """Settings from the environment with the given options on top; raises ConfigError."""
    merged = dict(os.environ if environ is None else environ)
    for dest, field in _FIELDS.items():
        if hasattr(args, dest):
            value = getattr(args, dest)
            merged[f"SIMULATOR_{field.upper()}"] = (
                ("true" if value else "false") if isinstance(value, bool) else str(value)
            )
    settings = load(SimulatorSettings, merged)
    try:
        parse_speed(settings.speed)
    except ValueError as exc:
        raise ConfigError(f"invalid configuration: {exc} - at $.SIMULATOR_SPEED") from exc
    return settings


def run(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; returns the exit status (2: bad configuration, 1: cannot bind)."""
    try:
        settings = settings_from(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    from twitch_archive.logging import configure  # noqa: PLC0415 - keeps --help fast

    configure("simulator", settings.log_level)
    return asyncio.run(serve(settings))


async def serve(settings: SimulatorSettings) -> int:
    """Serve until a signal arrives, then close every connection and stop."""
    import structlog  # noqa: PLC0415 - keeps --help fast (aiohttp loads only to serve)

    from twitch_archive.simulator.app import SimulatorHandle  # noqa: PLC0415

    log = structlog.get_logger("twitch_archive.simulator")
    handle = SimulatorHandle(settings)
    try:
        await handle.start()
    except OSError as exc:
        log.exception("cannot listen", host=settings.host, port=settings.port, error=str(exc))
        await handle.stop()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("listening", irc_url=handle.irc_url, control_url=handle.control_url, seed=handle.seed)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        log.info("stopping", stats=handle.stats())
        await handle.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m twitch_archive.simulator`: the same command without the `twitch-archive` tool."""
    parser = argparse.ArgumentParser(
        prog="twitch-archive simulate",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
