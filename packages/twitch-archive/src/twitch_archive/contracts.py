"""The event contract as a JSON Schema document (`make contracts` writes it; a test checks it)."""

from __future__ import annotations

import msgspec

from twitch_archive.codec import json_schema


def schema_json() -> str:
    """The JSON Schema of ChatEvent, pretty-printed with sorted keys and a trailing newline."""
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Twitch chat archive events, version 1",
        **json_schema(),
    }
    encoded = msgspec.json.encode(document, order="sorted")
    return msgspec.json.format(encoded, indent=2).decode() + "\n"
