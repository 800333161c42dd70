"""Split a raw Twitch IRC line into tags, prefix, command and params, strictly (no I/O).

Like twitch-irc-rs, runs of spaces, a trailing space, an empty prefix part or an odd command
token are rejected rather than guessed at.
"""

from __future__ import annotations

from typing import NoReturn

import msgspec

from twitch_archive.errors import IrcParseError, IrcParseReason
from twitch_archive.irc.tags import parse_tags

# Commands Twitch sends, mapped to themselves: one dict lookup replaces validating the token.
_KNOWN_COMMANDS = {
    name: name
    for name in (
        "PRIVMSG",
        "USERNOTICE",
        "CLEARCHAT",
        "CLEARMSG",
        "PING",
        "PONG",
        "JOIN",
        "PART",
        "CAP",
        "ROOMSTATE",
        "USERSTATE",
        "GLOBALUSERSTATE",
        "NOTICE",
        "RECONNECT",
        "HOSTTARGET",
        "WHISPER",
        "MODE",
    )
}


class IrcLine(msgspec.Struct, frozen=True, kw_only=True):
    """One IRC line split into its parts; tag values are unescaped, the command is uppercased."""

    tags: dict[str, str]
    prefix: str | None
    """The prefix without its leading ':' (`nick!user@host`, `nick@host` or a host), or None."""
    command: str
    params: tuple[str, ...]
    """Middle params, then the trailing one (its ':' removed) if present."""
    raw: str


def split_line(raw: str) -> tuple[str, str | None, str, list[str]]:
    """Split a raw line into (tag section, prefix, command, params); raises IrcParseError.

    The tag section is returned as sent (escaped, without the `@`; "" when there is none) so
    each command parser reads only the tags it needs. No Struct is built here.
    """
    if "\n" in raw or "\r" in raw or "\x00" in raw:
        # NUL is forbidden by RFC 1459 and cannot be stored in a PostgreSQL text column.
        raise IrcParseError(raw, IrcParseReason.CONTROL_CHARACTER, "CR, LF or NUL inside the line")
    if not raw:
        raise IrcParseError(raw, IrcParseReason.EMPTY_LINE)
    if raw[0] == "@":
        # Fast path for the shape of nearly every archived line,
        # `@tags :prefix COMMAND #channel :trailing`: one split instead of a find per part.
        # It accepts exactly what the general path below accepts, with the same result.
        parts = raw.split(" ", 4)
        if len(parts) == 5:
            section, source, command, first, rest = parts
            if (
                rest[:1] == ":"
                and command in _KNOWN_COMMANDS
                and first
                and first[0] != ":"
                and len(section) > 1
                and source[:1] == ":"
            ):
                source = source[1:]
                if not source or source[-1] == "@" or "!@" in source:
                    _reject_prefix(source, raw)
                return section[1:], source, command, [first, rest[1:]]
        end = raw.find(" ")
        if end < 0:
            raise IrcParseError(raw, IrcParseReason.MISSING_COMMAND, "tags only")
        if end == 1:
            raise IrcParseError(raw, IrcParseReason.MALFORMED_TAGS, "empty tag section")
        section = raw[1:end]
        pos = end + 1
    else:
        section = ""
        pos = 0
    prefix = None
    if raw.startswith(":", pos):
        end = raw.find(" ", pos)
        if end < 0:
            raise IrcParseError(raw, IrcParseReason.MISSING_COMMAND, "no command after the prefix")
        prefix = raw[pos + 1 : end]
        if not prefix or prefix[-1] == "@" or "!@" in prefix:
            _reject_prefix(prefix, raw)
        pos = end + 1
    end = raw.find(" ", pos)
    command = raw[pos:end] if end >= 0 else raw[pos:]
    known = _KNOWN_COMMANDS.get(command)
    command = known if known is not None else _check_command(command, raw)
    return section, prefix, command, (_split_params(raw, end + 1) if end >= 0 else [])


def parse_line(raw: str) -> IrcLine:
    """Parse a raw line (without CR LF) into an IrcLine; raises IrcParseError."""
    section, prefix, command, params = split_line(raw)
    return IrcLine(
        tags=parse_tags(section), prefix=prefix, command=command, params=tuple(params), raw=raw
    )


def _reject_prefix(prefix: str, raw: str) -> NoReturn:
    """Raise for a prefix that is empty, ends in `@` (no host) or has `!@` (no user)."""
    if not prefix:
        raise IrcParseError(raw, IrcParseReason.MALFORMED_PREFIX, "empty prefix")
    if prefix[-1] == "@":
        raise IrcParseError(raw, IrcParseReason.MALFORMED_PREFIX, "empty host in the prefix")
    raise IrcParseError(raw, IrcParseReason.MALFORMED_PREFIX, "empty user in the prefix")


def _check_command(command: str, raw: str) -> str:
    if not command:
        raise IrcParseError(raw, IrcParseReason.MISSING_COMMAND, "empty command")
    if command.isascii() and (command.isalpha() or (len(command) == 3 and command.isdigit())):
        return command.upper()
    raise IrcParseError(
        raw, IrcParseReason.MALFORMED_COMMAND, f"not letters or 3 digits: {command!r}"
    )


def _split_params(raw: str, pos: int) -> list[str]:
    if pos == len(raw):
        raise IrcParseError(raw, IrcParseReason.MALFORMED_PARAMS, "trailing space after command")
    if raw[pos] == ":":
        return [raw[pos + 1 :]]
    colon = raw.find(" :", pos)
    params = raw[pos:].split(" ") if colon < 0 else raw[pos:colon].split(" ")
    if "" in params:
        raise IrcParseError(
            raw,
            IrcParseReason.MALFORMED_PARAMS,
            "empty middle param (a run of spaces or a trailing space)",
        )
    if colon >= 0:
        params.append(raw[colon + 2 :])
    return params
