"""Settings of the simulated Twitch IRC server: `SIMULATOR_*` environment variables."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from twitch_archive.settings import CommaList, LogLevel, Secret

ListenPort = Annotated[int, msgspec.Meta(ge=0, le=65535)]
"""A TCP port; 0 picks a free one (tests)."""
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Positive = Annotated[float, msgspec.Meta(gt=0)]

DEFAULT_PORT = 6680


def _env_name(name: str) -> str:
    return "SIMULATOR_" + name.upper()


class SimulatorSettings(msgspec.Struct, frozen=True, kw_only=True, rename=_env_name):
    """Every knob of `twitch-archive simulate`; the field `port` reads `SIMULATOR_PORT`."""

    host: str = "127.0.0.1"
    """Interface the WebSocket and control server listens on."""
    port: ListenPort = DEFAULT_PORT
    """Port of the WebSocket (`/`) and control (`/control/*`) server; 0 picks a free port."""
    channels: CommaList = CommaList()
    """Channels with generated chat traffic (comma-separated, without '#')."""
    auto_traffic: bool = False
    """Also generate traffic in any other channel a client joins (ranked after `channels`)."""
    rate: NonNegative = 1.0
    """Mean generated lines per second per channel (before the skew); 0 generates nothing."""
    skew: NonNegative = 0.0
    """Zipf exponent of rates over channels in configured order; 0 gives every channel `rate`."""
    seed: int | None = None
    """Seed of generated traffic (same seed, same events and ids); unset picks one and logs it."""
    profile: str | None = None
    """A profile JSON file to use instead of the built-in one learned from a real capture."""
    join_limit: Annotated[int, msgspec.Meta(ge=1)] = 20
    """JOINs accepted per login per `join_window_s` (Twitch: 20 for unverified and anonymous)."""
    join_window_s: Positive = 10.0
    """Sliding window of the JOIN rate limit, in seconds."""
    join_limit_notice: bool = True
    """Answer a JOIN over the limit with a NOTICE (real Twitch stays silent: set false to match)."""
    ping_interval_s: Positive = 300.0
    """Seconds between the server's PINGs on each connection."""
    pong_timeout_s: Positive = 10.0
    """A connection that does not PONG within this many seconds of a PING is closed."""
    reconnect_grace_s: NonNegative = 30.0
    """Seconds between a RECONNECT and the server closing that connection."""
    oauth_tokens: Secret | None = None
    """Comma-separated valid OAuth tokens (with or without `oauth:`); anonymous always works."""
    replay_file: str | None = None
    """A raw IRC log (plain or .gz) replayed onto `replay_channels` once a client joins each."""
    replay_channels: CommaList = CommaList()
    """Channels the replay is written to (default: `channels`)."""
    speed: str = "1"
    """Replay pace: a factor of the log's own tmi-sent-ts gaps (`10`: ten times faster) or `max`."""
    replay_loop: bool = False
    """Start the replay over when it ends (every pass has fresh ids)."""
    record_sent: bool = True
    """Keep the ids of every event sent, per channel and per connection (off for long loads)."""
    max_buffered_lines: Annotated[int, msgspec.Meta(ge=1)] = 20_000
    """Lines queued for one connection before the slow-client policy applies."""
    slow_client: Literal["wait", "disconnect"] = "wait"
    """At `max_buffered_lines`: pause the generator (`wait`) or close the connection like Twitch."""
    frame_bytes: Annotated[int, msgspec.Meta(ge=512)] = 16_384
    """Target size of one WebSocket text frame; lines are batched into frames up to it."""
    stamp_on_write: bool = False
    """Set tmi-sent-ts of every line with a Twitch id (messages, notices) to the millisecond its
    frame is written to the socket, instead of the moment the event was generated (Twitch's
    meaning). For delay measurements through the pipeline: the delay then starts at the wire.
    Mod actions keep theirs, because their ids hash it."""
    log_level: LogLevel = "info"
    """Log verbosity: debug, info, warning or error."""

    def valid_tokens(self) -> frozenset[str]:
        """The configured OAuth tokens without their `oauth:` prefix."""
        if self.oauth_tokens is None:
            return frozenset()
        tokens = (item.strip() for item in self.oauth_tokens.reveal().split(","))
        return frozenset(token.removeprefix("oauth:") for token in tokens if token)

    def traffic_channels(self) -> tuple[str, ...]:
        """The configured traffic channels, lowercased, '#' removed, duplicates dropped."""
        return _channel_names(self.channels)

    def replay_targets(self) -> tuple[str, ...]:
        """The channels a configured replay is written to."""
        return _channel_names(self.replay_channels) or self.traffic_channels()


def _channel_names(items: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen[item.strip().lstrip("#").lower()] = None
    seen.pop("", None)
    return tuple(seen)


def parse_speed(value: str | float) -> float | None:
    """`max` (or `inf`, `0`) gives None, meaning no pacing; else a positive factor."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("max", "inf", "0"):
            return None
        try:
            factor = float(text)
        except ValueError:
            raise ValueError(f"speed must be a positive number or 'max', not {value!r}") from None
    else:
        factor = float(value)
        if factor == 0:
            return None
    if not factor > 0:
        raise ValueError(f"speed must be a positive number or 'max', not {value!r}")
    return None if factor == float("inf") else factor
