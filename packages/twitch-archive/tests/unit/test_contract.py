"""The event contract: example payloads, the generated JSON Schema, and the codec's errors."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from twitch_archive.codec import decode_event, encode_event
from twitch_archive.contracts import schema_json
from twitch_archive.errors import ContractError
from twitch_archive.events import EVENT_TYPES, Message, ModAction, UserNotice

PACKAGE = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((PACKAGE / "examples" / "events").glob("*/*.json"))


def test_examples_cover_every_event_type() -> None:
    """There is at least one example payload for every event type on the wire."""
    assert {path.parent.name for path in EXAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_example_round_trips_byte_for_byte(path: Path) -> None:
    """An example decodes to its folder's type and re-encodes to exactly the same bytes."""
    payload = path.read_bytes().removesuffix(b"\n")
    event = decode_event(payload)
    assert msgspec.json.decode(payload)["type"] == path.parent.name
    assert encode_event(event) == payload


def test_schema_file_matches_the_code() -> None:
    """The committed JSON Schema equals what `make contracts` would regenerate."""
    committed = (PACKAGE / "schema" / "chat-events.v1.json").read_text()
    assert committed == schema_json(), "contract changed: run `make contracts` and commit the diff"


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        pytest.param(b'{"type":"message","id":1}', "$.id", id="wrong-type:id"),
        pytest.param(
            b'{"type":"message","id":"x","channel":"c","ts":1}', "text", id="missing:text"
        ),
        pytest.param(b'{"type":"mod_action","id":"x","channel":"c","ts":"1"}', "$.ts", id="ts:str"),
        pytest.param(b'{"type":"nope","id":"x"}', "type", id="unknown-tag"),
    ],
)
def test_invalid_payload_raises_contract_error_naming_the_path(payload: bytes, path: str) -> None:
    """A payload that breaks the contract raises ContractError whose text names the field."""
    with pytest.raises(ContractError, match=path.replace("$", r"\$")):
        decode_event(payload)


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b"not json", b"[]", b"null"],
    ids=["empty", "truncated", "garbage", "array", "null"],
)
def test_undecodable_bytes_raise_contract_error(payload: bytes) -> None:
    """Bytes that are not a JSON event raise ContractError, never another exception."""
    with pytest.raises(ContractError):
        decode_event(payload)


def test_unknown_fields_are_ignored_for_rolling_deploys() -> None:
    """A newer producer's extra field does not stop an older consumer from decoding."""
    event = decode_event(
        b'{"type":"mod_action","id":"x","channel":"c","ts":5,"action":"ban","added_later":1}'
    )
    assert event == ModAction(id="x", channel="c", ts=5, action="ban")


def test_tags_are_explicit_and_stable() -> None:
    """The wire tag of each struct is fixed, whatever the class is called."""
    tags = {cls: cls.__struct_config__.tag for cls in (Message, UserNotice, ModAction)}
    assert tags == {Message: "message", UserNotice: "usernotice", ModAction: "mod_action"}


def test_optional_fields_encode_as_explicit_nulls() -> None:
    """Defaults are written out (no omit_defaults), so clients always see every key."""
    encoded = msgspec.json.decode(encode_event(Message(id="i", channel="c", ts=0, text="t")))
    assert encoded["user_id"] is None
    assert encoded["badges"] == []
    assert encoded["is_action"] is False
