"""IRC grammar properties: no failure but IrcParseError, and format/parse round trips."""

from __future__ import annotations

import msgspec
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from twitch_archive.errors import IrcParseError
from twitch_archive.events import Badge, ChatEvent, Emote, Message, ModAction, UserNotice
from twitch_archive.irc import format_event, format_line, parse, parse_line
from twitch_archive.irc.line import split_line
from twitch_archive.irc.tags import PrivmsgTags, parse_tags, privmsg_tags

# ---------------------------------------------------------------- arbitrary input

_PIECES = st.sampled_from(
    [
        "@",
        ":",
        " ",
        ";",
        "=",
        "!",
        "@",
        "#",
        "\\",
        "\\s",
        "\\:",
        '"',
        "\x01",
        "\x01ACTION ",
        "\r",
        "\n",
        "\x00",
        "-",
        "/",
        ",",
        "0",
        "1",
        "12-15",
        "😂",
        "PRIVMSG",
        "USERNOTICE",
        "CLEARCHAT",
        "CLEARMSG",
        "PING",
        "001",
        "tmi.twitch.tv",
        "#chan",
        "nick!user@host",
        "badges=",
        "badge-info=",
        "emotes=",
        "tmi-sent-ts=",
        "ban-duration=",
        "msg-id=",
        "target-msg-id=",
        "room-id=",
        "id=",
        "bits=",
        "display-name=",
        "login=",
        "msg-param-",
    ]
)
_TWITCHY = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=40).map("".join)


def _parse_is_total(raw: str) -> None:
    try:
        event = parse(raw)
    except IrcParseError:
        return
    assert event is None or isinstance(event, Message | UserNotice | ModAction)
    if event is not None:
        msgspec.json.encode(event)


@given(st.text())
def test_parse_is_total_on_text(raw: str) -> None:
    """On any text, parse returns an event or None, or raises IrcParseError."""
    _parse_is_total(raw)


@given(_TWITCHY)
def test_parse_is_total_on_twitch_like_text(raw: str) -> None:
    """On text made of Twitch line fragments, parse returns an event or None, or IrcParseError."""
    _parse_is_total(raw)


@given(st.binary(), st.sampled_from(["surrogateescape", "replace"]))
def test_parse_is_total_on_decoded_bytes(data: bytes, errors: str) -> None:
    """On arbitrary bytes decoded leniently, parse returns an event or None, or IrcParseError."""
    _parse_is_total(data.decode("utf-8", errors=errors))


@given(_TWITCHY)
def test_privmsg_tags_fast_path_agrees_with_parse_tags(section: str) -> None:
    """The JSON-backed PRIVMSG tag reader gives what the general tag parser gives."""
    assert privmsg_tags(section) == msgspec.convert(parse_tags(section), PrivmsgTags)


_SECTION = st.text(st.characters(exclude_characters=" \r\n\x00"), min_size=1)


@given(_SECTION, _TWITCHY)
def test_split_fast_path_agrees_with_general_path(section: str, rest: str) -> None:
    """A line with tags splits like the same line without them, whichever path it takes."""
    assume(rest and not rest.startswith("@"))

    def outcome(raw: str) -> object:
        try:
            return split_line(raw)[1:]
        except IrcParseError as exc:
            return exc.reason

    assert outcome(f"@{section} {rest}") == outcome(rest)


# ---------------------------------------------------------------- round trips

_SAFE = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00")
_TEXT = st.text(_SAFE, max_size=40)
_WORD = st.text(_SAFE, min_size=1, max_size=20)
_LOGIN = st.from_regex(r"[a-z0-9_]{1,25}", fullmatch=True)
_ID = st.from_regex(r"[A-Za-z0-9_-]{1,36}", fullmatch=True)
_TS = st.integers(min_value=-(10**17), max_value=10**17)
_BADGE = st.builds(
    Badge,
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00,/")),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00,")),
)
_EMOTE = st.builds(Emote, _ID, st.integers(0, 10**9 - 1), st.integers(0, 10**9 - 1))


def _optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.none() | strategy


_MESSAGES = st.builds(
    Message,
    id=st.just(""),
    channel=_LOGIN,
    channel_id=_optional(_ID),
    ts=_TS,
    message_id=_optional(_ID),
    user_id=_optional(_ID),
    user_login=st.none() | st.just("") | _LOGIN,
    display_name=_optional(_WORD),
    text=_TEXT,
    is_action=st.booleans(),
    badges=st.lists(_BADGE, max_size=3).map(tuple),
    badge_info=st.lists(_BADGE, max_size=2).map(tuple),
    emotes=st.lists(_EMOTE, max_size=4).map(tuple),
    color=_optional(_WORD),
    bits=st.none() | st.integers(0, 10**17),
    first_msg=st.booleans(),
    reply_parent_msg_id=_optional(_ID),
    reply_parent_user_login=_optional(_LOGIN),
    source_channel_id=_optional(_ID),
)
_USERNOTICES = st.builds(
    UserNotice,
    id=st.just(""),
    channel=_LOGIN,
    channel_id=_optional(_ID),
    ts=_TS,
    notice_type=_WORD,
    message_id=_optional(_ID),
    user_id=_optional(_ID),
    user_login=_optional(_LOGIN),
    display_name=_optional(_WORD),
    text=_optional(_TEXT),
    system_msg=_optional(_TEXT),
    params=st.dictionaries(st.from_regex(r"[A-Za-z0-9-]{0,20}", fullmatch=True), _TEXT, max_size=4),
)
_MOD_ACTIONS = st.one_of(
    st.builds(
        ModAction,
        id=st.just(""),
        channel=_LOGIN,
        channel_id=_optional(_ID),
        ts=_TS,
        action=st.just("clear"),
    ),
    st.builds(
        ModAction,
        id=st.just(""),
        channel=_LOGIN,
        channel_id=_optional(_ID),
        ts=_TS,
        action=st.just("ban"),
        target_user_id=_optional(_ID),
        target_user_login=_WORD,
    ),
    st.builds(
        ModAction,
        id=st.just(""),
        channel=_LOGIN,
        channel_id=_optional(_ID),
        ts=_TS,
        action=st.just("timeout"),
        target_user_id=_optional(_ID),
        target_user_login=_WORD,
        duration_s=st.integers(0, 10**9),
    ),
    st.builds(
        ModAction,
        id=st.just(""),
        channel=_LOGIN,
        channel_id=_optional(_ID),
        ts=_TS,
        action=st.just("delete"),
        target_user_login=_optional(_LOGIN),
        target_message_id=_ID,
        message_text=_optional(_TEXT),
    ),
)


@settings(max_examples=300)
@given(st.one_of(_MESSAGES, _USERNOTICES, _MOD_ACTIONS))
def test_format_then_parse_round_trips(draft: ChatEvent) -> None:
    """An event formatted as a line parses back to itself, with Twitch's id or a derived one."""
    if isinstance(draft, Message) and not draft.is_action:
        assume(not (draft.text.startswith("\x01ACTION ") and draft.text.endswith("\x01")))
    event = parse(format_event(draft))
    assert event is not None
    message_id = getattr(draft, "message_id", None)
    assert event.id == message_id if message_id else event.id.startswith("h:")
    assert event == msgspec.structs.replace(draft, id=event.id)
    assert parse(format_event(event)) == event


@given(_TWITCHY)
def test_irc_line_round_trips_through_format_line(raw: str) -> None:
    """Any line parse_line accepts formats to a line that splits the same way."""
    try:
        line = parse_line(raw)
    except IrcParseError:
        return
    again = parse_line(format_line(line))
    assert (again.tags, again.prefix, again.command, again.params) == (
        line.tags,
        line.prefix,
        line.command,
        line.params,
    )
