"""ChatEvent or IrcLine -> raw Twitch IRC line (for the simulator and tests).

`parse(format_event(e)) == e` for every event `parse(line)` returns: a ts of 0 writes no
tmi-sent-ts tag, and derived ids hash a ts of 0 like a missing one.
"""

from __future__ import annotations

from twitch_archive.events import ChatEvent, Message, ModAction, UserNotice
from twitch_archive.irc.line import IrcLine
from twitch_archive.irc.tags import escape, format_badges, format_emotes

_SERVER = "tmi.twitch.tv"


def format_line(line: IrcLine) -> str:
    """The raw line for an IrcLine; the last param is always written as a trailing (`:`) param."""
    parts = []
    if line.tags:
        parts.append("@" + ";".join([f"{key}={escape(value)}" for key, value in line.tags.items()]))
    if line.prefix is not None:
        parts.append(":" + line.prefix)
    parts.append(line.command)
    if line.params:
        *middle, last = line.params
        for param in middle:
            if not param or " " in param or param[0] == ":":
                raise ValueError(f"not a valid middle param: {param!r}")
        parts.extend(middle)
        parts.append(":" + last)
    return " ".join(parts)


def format_event(event: ChatEvent) -> str:
    """The raw Twitch line that parses back to `event` (CLEARCHAT/CLEARMSG for mod actions).

    Raises ValueError for an event no IRC line carries (a coverage gap, an unban, ...).
    """
    if isinstance(event, Message):
        return _format_message(event)
    if isinstance(event, UserNotice):
        return _format_usernotice(event)
    if isinstance(event, ModAction):
        return _format_mod_action(event)
    raise ValueError(f"IRC has no line for a {type(event).__name__} event")


def _tag_section(tags: list[tuple[str, str | None]]) -> str:
    """`@k=v;...` with escaped values; tags whose value is None are left out."""
    return "@" + ";".join([f"{key}={escape(value)}" for key, value in tags if value is not None])


def _user_prefix(login: str | None) -> str:
    if login is None:
        return _SERVER
    user = login or "_"
    return f"{login}!{user}@{user}.{_SERVER}"


def _ts_tag(ts: int) -> str | None:
    return str(ts) if ts else None


def _format_message(event: Message) -> str:
    names = {badge.name for badge in event.badges}
    text = f"\x01ACTION {event.text}\x01" if event.is_action else event.text
    tags = _tag_section(
        [
            ("badge-info", format_badges(event.badge_info)),
            ("badges", format_badges(event.badges)),
            ("bits", None if event.bits is None else str(event.bits)),
            ("color", event.color or ""),
            ("display-name", event.display_name),
            ("emotes", format_emotes(event.emotes)),
            ("first-msg", "1" if event.first_msg else "0"),
            ("flags", ""),
            ("id", event.message_id),
            ("mod", "1" if "moderator" in names else "0"),
            ("reply-parent-msg-id", event.reply_parent_msg_id),
            ("reply-parent-user-login", event.reply_parent_user_login),
            ("returning-chatter", "0"),
            ("room-id", event.channel_id),
            ("source-room-id", event.source_channel_id),
            ("subscriber", "1" if names & {"subscriber", "founder"} else "0"),
            ("tmi-sent-ts", _ts_tag(event.ts)),
            ("turbo", "0"),
            ("user-id", event.user_id),
            ("user-type", "mod" if "moderator" in names else ""),
        ]
    )
    return f"{tags} :{_user_prefix(event.user_login)} PRIVMSG #{event.channel} :{text}"


def _format_usernotice(event: UserNotice) -> str:
    tags = _tag_section(
        [
            ("display-name", event.display_name),
            ("id", event.message_id),
            ("login", event.user_login),
            ("msg-id", event.notice_type),
            *[(f"msg-param-{key}", value) for key, value in event.params.items()],
            ("room-id", event.channel_id),
            ("system-msg", event.system_msg),
            ("tmi-sent-ts", _ts_tag(event.ts)),
            ("user-id", event.user_id),
        ]
    )
    line = f"{tags} :{_SERVER} USERNOTICE #{event.channel}"
    return line if event.text is None else f"{line} :{event.text}"


def _format_mod_action(event: ModAction) -> str:
    if event.action == "delete":
        if event.target_message_id is None:
            raise ValueError("a delete needs target_message_id")
        tags = _tag_section(
            [
                ("login", event.target_user_login),
                ("room-id", event.channel_id),
                ("target-msg-id", event.target_message_id),
                ("tmi-sent-ts", _ts_tag(event.ts)),
            ]
        )
        line = f"{tags} :{_SERVER} CLEARMSG #{event.channel}"
        return line if event.message_text is None else f"{line} :{event.message_text}"
    if event.action not in ("ban", "timeout", "clear"):
        raise ValueError(f"IRC has no line for mod action {event.action!r}")
    clear = event.action == "clear"
    if not clear and not event.target_user_login:
        raise ValueError(f"a {event.action} needs target_user_login")
    if event.action == "timeout" and event.duration_s is None:
        raise ValueError("a timeout needs duration_s")
    tags = _tag_section(
        [
            ("ban-duration", str(event.duration_s) if event.action == "timeout" else None),
            ("room-id", event.channel_id),
            ("target-user-id", None if clear else event.target_user_id),
            ("tmi-sent-ts", _ts_tag(event.ts)),
        ]
    )
    line = f":{_SERVER} CLEARCHAT #{event.channel}"
    if tags != "@":
        line = f"{tags} {line}"
    return line if clear else f"{line} :{event.target_user_login}"
