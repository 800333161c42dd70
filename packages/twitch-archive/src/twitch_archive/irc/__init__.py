"""The Twitch IRC grammar: pure functions from raw lines to events and back, no I/O."""

from twitch_archive.irc.format import format_event, format_line
from twitch_archive.irc.line import IrcLine, parse_line
from twitch_archive.irc.normalize import parse

__all__ = ["IrcLine", "format_event", "format_line", "parse", "parse_line"]
