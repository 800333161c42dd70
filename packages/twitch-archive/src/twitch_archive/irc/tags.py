"""IRCv3 tag values: unescape and escape, the tag section, and Twitch's badges and emotes tags.

Emote offsets are copied from the tag unchanged: Unicode code points, end inclusive.
"""

from __future__ import annotations

import msgspec

from twitch_archive.events import Badge, Emote

_UNESCAPED = {"s": " ", ":": ";", "\\": "\\", "r": "\r", "n": "\n"}

# Nine digits at most keeps emote offsets within a 32-bit column downstream.
_MAX_OFFSET_DIGITS = 10

# Badge and emote tags repeat heavily across a channel's messages, and their parsed forms are
# immutable (frozen Structs in tuples), so a small bounded memo makes them nearly free. Only
# short values are kept, so a hostile stream cannot make it large.
_MEMO_LIMIT = 4096
_MEMO_MAX_KEY = 512
_badges_memo: dict[str, tuple[Badge, ...]] = {}
_emotes_memo: dict[str, tuple[Emote, ...]] = {}
badges_memo = _badges_memo.get
"""The memo's lookup alone: `badges_memo(v) or parse_badges(v)` saves a call on a hit."""
emotes_memo = _emotes_memo.get
"""The memo's lookup alone: `emotes_memo(v) or parse_emotes(v)` saves a call on a hit."""


def unescape(value: str) -> str:
    r"""Unescape an IRCv3 tag value in one left-to-right pass.

    `\s` space, `\:` `;`, `\\` backslash, `\r` CR, `\n` LF; a backslash before any other character
    is dropped, and so is a dangling one at the end. Nothing is trimmed.
    """
    if "\\" not in value:
        return value
    if "\\\\" not in value:
        # Without an escaped backslash every backslash starts its own escape, so plain replaces
        # cannot overlap; whatever backslashes remain are unknown or dangling escapes.
        if "\\s" in value:
            value = value.replace("\\s", " ")
        if "\\:" in value:
            value = value.replace("\\:", ";")
        if "\\r" in value:
            value = value.replace("\\r", "\r")
        if "\\n" in value:
            value = value.replace("\\n", "\n")
        return value.replace("\\", "")
    parts = value.split("\\")
    out = [parts[0]]
    count = len(parts)
    i = 1
    while i < count:
        part = parts[i]
        if part:
            first = part[0]
            out.append(_UNESCAPED.get(first, first))
            out.append(part[1:])
            i += 1
        elif i + 1 < count:
            # Two backslashes in a row: a literal backslash, then the next chunk verbatim.
            out.append("\\")
            out.append(parts[i + 1])
            i += 2
        else:
            i += 1
    return "".join(out)


def escape(value: str) -> str:
    """Escape a tag value for the wire (the inverse of `unescape`)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if ";" in value:
        value = value.replace(";", "\\:")
    if " " in value:
        value = value.replace(" ", "\\s")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    return value


def parse_tags(section: str) -> dict[str, str]:
    """Parse a tag section (without the leading `@`) into unescaped values.

    Each tag splits on its first `=`; a tag without one has the value "". The last duplicate wins.
    An empty section gives no tags.
    """
    tags: dict[str, str] = {}
    if not section:
        return tags
    if "\\" in section:
        for item in section.split(";"):
            key, _, value = item.partition("=")
            tags[key] = unescape(value) if "\\" in value else value
    else:
        for item in section.split(";"):
            key, _, value = item.partition("=")
            tags[key] = value
    return tags


class PrivmsgTags(
    msgspec.Struct,
    frozen=True,
    rename={
        "badge_info": "badge-info",
        "display_name": "display-name",
        "first_msg": "first-msg",
        "room_id": "room-id",
        "tmi_sent_ts": "tmi-sent-ts",
        "user_id": "user-id",
        "reply_parent_msg_id": "reply-parent-msg-id",
        "reply_parent_user_login": "reply-parent-user-login",
        "source_room_id": "source-room-id",
    },
):
    """The unescaped tags a PRIVMSG event is built from; a missing tag reads as ""."""

    # Alphabetical, as Twitch sends them: msgspec looks for a key after the last one it found.
    badge_info: str = ""
    badges: str = ""
    bits: str = ""
    color: str = ""
    display_name: str = ""
    emotes: str = ""
    first_msg: str = ""
    id: str = ""
    reply_parent_msg_id: str = ""
    reply_parent_user_login: str = ""
    room_id: str = ""
    source_room_id: str = ""
    tmi_sent_ts: str = ""
    user_id: str = ""


_privmsg_tags_json = msgspec.json.Decoder(PrivmsgTags).decode
_NO_PRIVMSG_TAGS = PrivmsgTags()


def privmsg_tags(section: str) -> PrivmsgTags:
    """Read the tags a PRIVMSG needs from its tag section, with `parse_tags`' semantics.

    The fast path rewrites `k=v;k=v` as the JSON object `{"k":"v","k":"v"}` and lets msgspec's C
    decoder pick out the needed keys: no str or dict entry is made for the other tags. Without
    a backslash or quote in the section, the only quotes are the ones inserted, so the JSON is
    valid exactly when every tag has one `=` and no control character; msgspec keeps the last of
    duplicate keys. Any other section takes the general path. This halves the cost of a line.
    """
    if not section:
        return _NO_PRIVMSG_TAGS
    if "\\" not in section and '"' not in section:
        try:
            # Replacing in bytes is faster than in str; encode() is a copy for ASCII.
            return _privmsg_tags_json(
                b'{"' + section.encode().replace(b";", b'","').replace(b"=", b'":"') + b'"}'
            )
        except ValueError:
            # msgspec.DecodeError, or UnicodeEncodeError for a lone surrogate.
            return msgspec.convert(parse_tags(section), PrivmsgTags)
    return msgspec.convert(parse_tags(section), PrivmsgTags)


def parse_badges(value: str) -> tuple[Badge, ...]:
    """Parse `badges` / `badge-info`: items split on `,`, each on its first `/`, in tag order."""
    if not value:
        return ()
    badges = _badges_memo.get(value)
    if badges is None:
        found = []
        for item in value.split(","):
            if item:
                name, _, version = item.partition("/")
                found.append(Badge(name, version))
        badges = tuple(found)
        if len(value) <= _MEMO_MAX_KEY:
            if len(_badges_memo) >= _MEMO_LIMIT:
                _badges_memo.clear()
            _badges_memo[value] = badges
    return badges


def parse_emotes(value: str) -> tuple[Emote, ...]:
    """Parse `emotes` (`id:s-e,s-e/id2:s-e`) in tag order, skipping unparseable groups and ranges.

    Offsets are kept as given, even when they run backwards or past the end of the text.
    """
    if not value:
        return ()
    emotes = _emotes_memo.get(value)
    if emotes is None:
        found = []
        for group in value.split("/"):
            emote_id, colon, ranges = group.partition(":")
            if not colon or not emote_id:
                continue
            for span in ranges.split(","):
                start, dash, end = span.partition("-")
                if (
                    dash
                    and start.isdecimal()
                    and end.isdecimal()
                    and len(start) < _MAX_OFFSET_DIGITS
                    and len(end) < _MAX_OFFSET_DIGITS
                ):
                    found.append(Emote(emote_id, int(start), int(end)))
        emotes = tuple(found)
        if len(value) <= _MEMO_MAX_KEY:
            if len(_emotes_memo) >= _MEMO_LIMIT:
                _emotes_memo.clear()
            _emotes_memo[value] = emotes
    return emotes


def format_badges(badges: tuple[Badge, ...]) -> str:
    """The unescaped `badges` tag value for a tuple of badges."""
    return ",".join([f"{badge.name}/{badge.version}" for badge in badges])


def format_emotes(emotes: tuple[Emote, ...]) -> str:
    """The `emotes` tag value: consecutive ranges of one id share a group, tag order is kept."""
    groups: list[str] = []
    current = None
    spans: list[str] = []
    for emote in emotes:
        if emote.id != current:
            if current is not None:
                groups.append(f"{current}:{','.join(spans)}")
            current = emote.id
            spans = []
        spans.append(f"{emote.start}-{emote.end}")
    if current is not None:
        groups.append(f"{current}:{','.join(spans)}")
    return "/".join(groups)
