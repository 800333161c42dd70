"""The one encoder and decoder of chat events (JSON on the wire)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from twitch_archive.errors import ContractError
from twitch_archive.events import ChatEvent

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[ChatEvent] = msgspec.json.Decoder(ChatEvent)


def encode_event(event: ChatEvent) -> bytes:
    """Encode an event as compact JSON bytes."""
    return _encoder.encode(event)


def encode_events_ndjson(events: Iterable[ChatEvent]) -> bytes:
    """Encode events as newline-delimited JSON (each line ends with a newline), in one call."""
    return _encoder.encode_lines(events)


def decode_event(payload: bytes | bytearray | memoryview | str) -> ChatEvent:
    """Decode and validate one event; raises ContractError naming the JSON path at fault."""
    try:
        return _decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ContractError(str(exc)) from exc


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the contract (what `make contracts` writes)."""
    return msgspec.json.schema(ChatEvent)
