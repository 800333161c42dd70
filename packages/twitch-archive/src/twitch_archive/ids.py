"""Stable event ids: Twitch's id where the line has one, else a deterministic hash.

Two ingestors that see the same line compute the same id, so JetStream's duplicate window and
the database's unique keys drop the second copy.
"""

from __future__ import annotations

import hashlib

HASH_PREFIX = "h:"


def derived_id(kind: str, *parts: str | int | None) -> str:
    """A deterministic id for an event Twitch gives no id of its own (CLEARCHAT, CLEARMSG)."""
    text = "\x1f".join([kind, *("" if part is None else str(part) for part in parts)])
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    return HASH_PREFIX + digest
