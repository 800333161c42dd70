"""The IRC grammar against the shared third-party vectors in ../shared/testdata/irc."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from twitch_archive.errors import IrcParseError, IrcParseReason
from twitch_archive.events import Event
from twitch_archive.irc import parse, parse_line
from twitch_archive.irc.tags import escape, parse_tags, unescape


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    return next(parent for parent in here.parents if (parent / "uv.lock").is_file())


IRC_DATA = (_repo_root() / ".." / "shared" / "testdata" / "irc").resolve()

if not IRC_DATA.is_dir():
    if os.environ.get("CI") == "true":
        pytest.fail(f"IRC test vectors missing: {IRC_DATA}", pytrace=False)
    pytest.skip(f"IRC test vectors not found at {IRC_DATA}", allow_module_level=True)


def _load(name: str) -> list[dict[str, Any]]:
    lines = (IRC_DATA / name).read_text(encoding="utf-8").splitlines()
    return [msgspec.json.decode(line) for line in lines if line]


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _vector_id(number: int, vector: dict[str, Any]) -> str:
    expect = vector["expect"]
    if expect.get("malformed"):
        kind = "malformed(strict-only)" if vector.get("strict_only") else "malformed"
    elif expect.get("none"):
        kind = f"none:{vector['command']}"
    else:
        kind = f"{vector['command']}->{expect['type']}"
    return f"L{number:03d}-{kind}: {_short(vector.get('note') or vector['raw'])}"


def _params(name: str, id_of: Any) -> list[Any]:
    return [
        pytest.param(vector, id=id_of(number, vector))
        for number, vector in enumerate(_load(name), start=1)
    ]


def _parse_or_reason(raw: str) -> Event | IrcParseReason | None:
    try:
        return parse(raw)
    except IrcParseError as exc:
        return exc.reason


def _split(raw: str) -> dict[str, Any]:
    line = parse_line(raw)
    return {
        "command": line.command,
        "params": list(line.params),
        "tags": line.tags,
        "prefix": line.prefix,
    }


@pytest.mark.parametrize("vector", _params("vectors.jsonl", _vector_id))
def test_vector(vector: dict[str, Any]) -> None:
    """Each raw line gives the event (the keys the vector asserts), None, or an IrcParseError."""
    raw, expect = vector["raw"], vector["expect"]
    if expect.get("malformed"):
        if vector.get("strict_only"):
            # Accepting or rejecting is allowed; any exception but IrcParseError fails the test.
            outcome = _parse_or_reason(raw)
            assert outcome is None or isinstance(outcome, IrcParseReason | Event)
        else:
            with pytest.raises(IrcParseError):
                parse(raw)
        return
    event = parse(raw)
    if expect.get("none"):
        assert event is None
    else:
        assert event is not None
        wire = msgspec.json.decode(msgspec.json.encode(event))
        assert {key: wire.get(key) for key in expect} == expect
    if "irc" in vector:
        assert _split(raw) == vector["irc"]


@pytest.mark.parametrize(
    "case",
    _params("tag-escaping.jsonl", lambda n, c: f"{n:02d}: {_short(c.get('note') or c['escaped'])}"),
)
def test_tag_value_unescapes_in_one_pass(case: dict[str, Any]) -> None:
    """A raw tag value unescapes per IRCv3, and escaping the result unescapes back to it."""
    assert unescape(case["escaped"]) == case["unescaped"]
    assert unescape(escape(case["unescaped"])) == case["unescaped"]


@pytest.mark.parametrize(
    "case",
    _params("tags-parse.jsonl", lambda n, c: f"{n:02d}: {_short(c.get('note') or c['tags'])}"),
)
def test_tag_section_parses_to_a_map(case: dict[str, Any]) -> None:
    """A tag section splits on the first '=', valueless tags are "", and the last duplicate wins."""
    assert parse_tags(case["tags"]) == case["parsed"]


@pytest.mark.parametrize(
    "case",
    _params("action-text.jsonl", lambda n, c: f"{n}: {_short(c.get('note') or c['trailing'])}"),
)
def test_action_wrapper_is_removed_only_when_complete(case: dict[str, Any]) -> None:
    """Only a complete outer `\\x01ACTION ...\\x01` wrapper is removed, and it sets is_action."""
    raw = f"@id=x;tmi-sent-ts=1 :u!u@u.tmi.twitch.tv PRIVMSG #c :{case['trailing']}"
    event = parse(raw)
    assert event is not None
    wire = msgspec.json.decode(msgspec.json.encode(event))
    assert (wire["text"], wire["is_action"]) == (case["text"], case["is_action"])


@pytest.mark.parametrize(
    "case",
    _params(
        "irc-split.jsonl",
        lambda n, c: f"{n:02d}{'-lenient' if c.get('rfc1459_lenient') else ''}: {_short(c['raw'])}",
    ),
)
def test_generic_irc_split(case: dict[str, Any]) -> None:
    """A generic IRC line splits into tags, prefix, command, params; lenient ones may be refused."""
    expected = dict(case["irc"], command=case["irc"]["command"].upper())
    if case.get("rfc1459_lenient"):
        try:
            outcome: object = _split(case["raw"])
        except IrcParseError as exc:
            outcome = exc.reason
        assert outcome in (expected, IrcParseReason.MALFORMED_PARAMS)
    else:
        assert _split(case["raw"]) == expected
