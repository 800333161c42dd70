"""Raw line -> ChatEvent: split the line, then dispatch on the command; other commands give None."""

from __future__ import annotations

from collections.abc import Callable

from twitch_archive.events import ChatEvent
from twitch_archive.irc.commands import clearchat, clearmsg, privmsg, usernotice
from twitch_archive.irc.line import split_line

CommandParser = Callable[[str, str | None, list[str], str, int | None], ChatEvent]
"""(tag section, prefix, params, raw, received_ts) -> event; raises IrcParseError."""

COMMAND_PARSERS: dict[str, CommandParser] = {
    "PRIVMSG": privmsg,
    "USERNOTICE": usernotice,
    "CLEARCHAT": clearchat,
    "CLEARMSG": clearmsg,
}
"""The archived commands. Everything else (PING, JOIN, ROOMSTATE, NOTICE, numerics, ...) is None."""


def parse(raw: str, *, received_ts: int | None = None) -> ChatEvent | None:
    """Parse one raw line (without CR LF) into an event, or None for a command not archived.

    Raises only IrcParseError. `ts` is the tmi-sent-ts tag, else `received_ts`, else 0.
    """
    section, prefix, command, params = split_line(raw)
    parser = COMMAND_PARSERS.get(command)
    if parser is None:
        return None
    return parser(section, prefix, params, raw, received_ts)
