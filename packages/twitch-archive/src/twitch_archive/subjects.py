"""Every NATS name the archive uses (subjects, streams, KV buckets, headers, the durable consumer).

All of them sit behind one namespace: `""` in production, `t<runid>.` in tests, so test runs never
see each other's traffic. Channel logins are validated inside the builders, so user input can never
produce a wildcard (`*`, `>`) or an extra subject token (`.`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final, Literal, get_args

EventType = Literal["message", "usernotice", "mod_action", "coverage_gap"]
"""The `type` tag of a chat event, which is also the last token of its subject."""

EVENT_TYPES: Final[frozenset[str]] = frozenset(get_args(EventType))

HEADER_ERROR: Final = "Archive-Error"
"""Dead-letter header: why the writer could not handle the message."""
HEADER_ORIGINAL_SUBJECT: Final = "Archive-Original-Subject"
"""Dead-letter header: the subject the message was first published on."""
HEADER_MSG_ID: Final = "Nats-Msg-Id"
"""JetStream's de-duplication header; its value is the event id."""

WRITER_DURABLE: Final = "writer"
"""The durable pull consumer all writer replicas share (consumer names are scoped by stream)."""

_CHANNEL = re.compile(r"[a-z0-9_]{1,25}")
# One or more lowercase tokens, each followed by a dot: "t1234abcd." or "staging.eu.".
_NAMESPACE = re.compile(r"(?:[a-z0-9_-]+\.)*")


def validate_channel(channel: str) -> str:
    """Return `channel` if it is a lowercase Twitch login, else raise ValueError."""
    if not isinstance(channel, str) or _CHANNEL.fullmatch(channel) is None:
        raise ValueError(
            f"invalid channel login {channel!r}: expected 1 to 25 characters of a-z, 0-9 and _"
        )
    return channel


def _validate_type(type_: str) -> str:
    if type_ not in EVENT_TYPES:
        raise ValueError(
            f"invalid event type {type_!r}: expected one of {', '.join(sorted(EVENT_TYPES))}"
        )
    return type_


@dataclasses.dataclass(frozen=True, slots=True)
class Names:
    """The names of one deployment (ns `""`) or one test run (ns `t<runid>.`).

    Subjects are `{ns}...`. Stream names cannot contain `.`, so they take the namespace upper-cased
    with `_` for `.` (`t1a.` -> `T1A_CHAT`). KV bucket names allow only `[A-Za-z0-9_-]`, so they
    take it with `_` for `.` (`t1a.` -> `t1a_channels`).
    """

    ns: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.ns, str) or _NAMESPACE.fullmatch(self.ns) is None:
            raise ValueError(
                f"invalid namespace {self.ns!r}: expected '' or tokens of a-z, 0-9, _ and -, "
                "each followed by '.' (for example 't1234abcd.')"
            )

    # ------------------------------------------------------------------ subjects

    def chat_subject(self, channel: str, type: EventType) -> str:
        """The subject one event is published on: `{ns}chat.<channel>.<type>`."""
        return f"{self.ns}chat.{validate_channel(channel)}.{_validate_type(type)}"

    def chat_wildcard(self) -> str:
        """All events: `{ns}chat.>` (the stream's subject, the writer's filter)."""
        return f"{self.ns}chat.>"

    def channel_wildcard(self, channel: str) -> str:
        """One channel's events: `{ns}chat.<channel>.>` (what the live gateway subscribes to)."""
        return f"{self.ns}chat.{validate_channel(channel)}.>"

    @property
    def deadletter_subject(self) -> str:
        """Where the writer puts what it cannot decode or store: `{ns}deadletter.chat`."""
        return f"{self.ns}deadletter.chat"

    @property
    def control_channels_changed(self) -> str:
        """Core NATS subject the api uses to tell ingestors the desired channel set changed."""
        return f"{self.ns}control.channels.changed"

    # ------------------------------------------------------------------ streams

    @property
    def stream_prefix(self) -> str:
        """What every stream name of this namespace starts with (`""` in production)."""
        return self.ns.replace(".", "_").upper()

    @property
    def chat_stream(self) -> str:
        """The JetStream stream holding `chat_wildcard()`: `{NS}CHAT`."""
        return f"{self.stream_prefix}CHAT"

    @property
    def deadletter_stream(self) -> str:
        """The JetStream stream holding `deadletter_subject`: `{NS}CHAT_DLQ`."""
        return f"{self.stream_prefix}CHAT_DLQ"

    @property
    def writer_durable(self) -> str:
        """The writers' durable consumer on `chat_stream` (not namespaced: its stream is)."""
        return WRITER_DURABLE

    # ------------------------------------------------------------------ KV buckets

    @property
    def bucket_prefix(self) -> str:
        """What every KV bucket name of this namespace starts with (`""` in production)."""
        return self.ns.replace(".", "_")

    @property
    def channels_bucket(self) -> str:
        """KV bucket with the desired channel set (api writes, ingestors watch)."""
        return f"{self.bucket_prefix}channels"

    @property
    def ingestors_bucket(self) -> str:
        """KV bucket with ingestor replica heartbeats (entries expire by TTL)."""
        return f"{self.bucket_prefix}ingestors"

    @property
    def jetstream_streams(self) -> tuple[str, ...]:
        """Every JetStream stream of the namespace, KV buckets included (a bucket is the stream
        `KV_<bucket>`): what to delete to remove a test's or a benchmark's namespace."""
        return (
            self.chat_stream,
            self.deadletter_stream,
            f"KV_{self.channels_bucket}",
            f"KV_{self.ingestors_bucket}",
        )
