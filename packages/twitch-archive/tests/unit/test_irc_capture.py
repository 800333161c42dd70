"""The parser over go-twitch-irc's real 5000-line capture of #xqcow (../shared/testdata/irc)."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from pathlib import Path

import pytest

from twitch_archive.events import ChatEvent, Message, ModAction, UserNotice
from twitch_archive.irc import format_event, parse
from twitch_archive.irc.tags import parse_tags


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    return next(parent for parent in here.parents if (parent / "uv.lock").is_file())


CAPTURE = (
    _repo_root() / ".." / "shared" / "testdata" / "irc" / "go-twitch-irc-channel.txt.gz"
).resolve()

if not CAPTURE.is_file():
    if os.environ.get("CI") == "true":
        pytest.fail(f"IRC capture missing: {CAPTURE}", pytrace=False)
    pytest.skip(f"IRC capture not found at {CAPTURE}", allow_module_level=True)


@pytest.fixture(scope="module")
def capture() -> list[tuple[str, ChatEvent | None]]:
    """Every raw line of the capture with what `parse` makes of it."""
    with gzip.open(CAPTURE, "rt", encoding="utf-8", newline="") as lines:
        raws = [line.removesuffix("\n") for line in lines]
    return [(raw, parse(raw)) for raw in raws]


def test_every_line_is_an_event(capture: list[tuple[str, ChatEvent | None]]) -> None:
    """All 5000 lines parse, and each is an archived command."""
    assert len(capture) == 5000
    assert all(event is not None for _, event in capture)


def test_command_mix(capture: list[tuple[str, ChatEvent | None]]) -> None:
    """The capture holds 4933 messages, 57 timeouts, 1 ban, 8 resubs and 1 sub."""
    kinds = Counter[str]()
    for _, event in capture:
        if isinstance(event, Message):
            kinds["message"] += 1
        elif isinstance(event, ModAction):
            kinds[f"mod_action:{event.action}"] += 1
        elif isinstance(event, UserNotice):
            kinds[f"usernotice:{event.notice_type}"] += 1
    assert kinds == {
        "message": 4933,
        "mod_action:timeout": 57,
        "mod_action:ban": 1,
        "usernotice:resub": 8,
        "usernotice:sub": 1,
    }


def test_every_emote_range_is_kept(capture: list[tuple[str, ChatEvent | None]]) -> None:
    """Each PRIVMSG keeps exactly the ranges of its emotes tag, in tag order, even odd ones."""
    for raw, event in capture:
        if not isinstance(event, Message):
            continue
        tag = parse_tags(raw[1 : raw.index(" ")]).get("emotes", "")
        ranges = [
            (group.split(":")[0], span)
            for group in tag.split("/")
            if group
            for span in group.split(":")[1].split(",")
        ]
        assert [(emote.id, f"{emote.start}-{emote.end}") for emote in event.emotes] == ranges


def test_timeouts_carry_their_duration(capture: list[tuple[str, ChatEvent | None]]) -> None:
    """Every timeout has a positive duration and a target; the ban has none."""
    actions = [event for _, event in capture if isinstance(event, ModAction)]
    assert all(a.duration_s and a.target_user_login for a in actions if a.action == "timeout")
    assert [a.duration_s for a in actions if a.action == "ban"] == [None]


def test_events_round_trip_through_format(capture: list[tuple[str, ChatEvent | None]]) -> None:
    """Formatting each event and parsing the line again gives the same event."""
    for _, event in capture:
        assert event is not None
        assert parse(format_event(event)) == event
