"""One parser per archived command (PRIVMSG, USERNOTICE, CLEARCHAT, CLEARMSG) -> ChatEvent.

Each reads the tags it needs from the raw tag section and raises IrcParseError for a line it
cannot turn into an event; a raw example sits above each, twitch-irc-rs style.
"""

from __future__ import annotations

from msgspec.structs import replace

from twitch_archive.errors import IrcParseError, IrcParseReason
from twitch_archive.events import Message, ModAction, UserNotice
from twitch_archive.ids import derived_id
from twitch_archive.irc.tags import (
    badges_memo,
    emotes_memo,
    parse_badges,
    parse_emotes,
    parse_tags,
    privmsg_tags,
)

_ACTION_OPEN = "\x01ACTION "
_ACTION_OPEN_LEN = len(_ACTION_OPEN)
_PARAM_PREFIX = "msg-param-"
_PARAM_PREFIX_LEN = len(_PARAM_PREFIX)
# 18 digits stay below 2**63, so every integer fits a PostgreSQL bigint.
_MAX_INT_DIGITS = 18


# @badge-info=subscriber/22;badges=moderator/1,subscriber/12;color=#19E6E6;display-name=randers;
# emotes=25:6-10;first-msg=0;flags=;id=d831d848-b7c7-4559-ae3a-2cb88f4dbfed;mod=1;
# returning-chatter=0;room-id=11148817;subscriber=1;tmi-sent-ts=1594555275886;turbo=0;
# user-id=40286300;user-type=mod :randers!randers@randers.tmi.twitch.tv PRIVMSG #pajlada
# :\x01ACTION -tags Kappa\x01
def privmsg(
    section: str, prefix: str | None, params: list[str], raw: str, received_ts: int | None
) -> Message:
    """A chat message; `/me` loses its outer `\\x01ACTION ...\\x01` wrapper and sets is_action."""
    if len(params) != 2:
        raise _param_count_error(raw, params, "channel and text")
    channel, text = params
    raw_text = text
    # `_channel` inlined and the nick of `nick!user@host` / `nick@host` read here: the hot path.
    if len(channel) < 2 or channel[0] != "#":
        raise IrcParseError(raw, IrcParseReason.INVALID_CHANNEL, f"not a #channel: {channel!r}")
    channel = channel[1:]
    if prefix is None:
        user_login = None
    else:
        bang = prefix.find("!")
        if bang >= 0:
            user_login = prefix[:bang]
        else:
            at = prefix.find("@")
            user_login = prefix[:at] if at >= 0 else None
    is_action = text.startswith(_ACTION_OPEN) and text.endswith("\x01")
    if is_action:
        text = text[_ACTION_OPEN_LEN:-1]
    tags = privmsg_tags(section)
    sent = tags.tmi_sent_ts
    if sent.isdecimal() and len(sent) <= _MAX_INT_DIGITS:
        sent_ts: int | None = int(sent)
    else:
        sent_ts = _int_value(sent, "tmi-sent-ts", raw, signed=True)
    message_id = tags.id or None
    badges = tags.badges
    badge_info = tags.badge_info
    emotes = tags.emotes
    # At most 15 keyword arguments: CPython passes more through a dict, which makes msgspec's
    # constructor four times slower. The rarely set fields are added below only when present.
    message = Message(
        id=message_id or derived_id("message", channel, sent_ts or None, user_login, raw_text),
        channel=channel,
        channel_id=tags.room_id or None,
        ts=sent_ts if sent_ts is not None else (received_ts or 0),
        message_id=message_id,
        user_id=tags.user_id or None,
        user_login=user_login,
        display_name=tags.display_name or None,
        text=text,
        is_action=is_action,
        badges=badges_memo(badges) or parse_badges(badges),
        badge_info=badges_memo(badge_info) or parse_badges(badge_info),
        emotes=emotes_memo(emotes) or parse_emotes(emotes),
        color=tags.color or None,
        first_msg=tags.first_msg == "1",
    )
    if tags.bits or tags.reply_parent_msg_id or tags.reply_parent_user_login or tags.source_room_id:
        message = replace(
            message,
            bits=_int_value(tags.bits, "bits", raw),
            reply_parent_msg_id=tags.reply_parent_msg_id or None,
            reply_parent_user_login=tags.reply_parent_user_login or None,
            source_channel_id=tags.source_room_id or None,
        )
    return message


# @badge-info=subscriber/8;badges=subscriber/6;color=#1E90FF;display-name=Lustbird;emotes=
# 1869328:16-19,37-40;flags=;id=22fbc2b2-a1a4-4ad3-b5a4-bb95ba7dc43b;login=lustbird;mod=0;
# msg-id=resub;msg-param-cumulative-months=8;msg-param-months=0;msg-param-should-share-streak=0;
# msg-param-sub-plan-name=Channel\sSubscription\s(xqcow);msg-param-sub-plan=1000;room-id=71092938;
# subscriber=1;system-msg=Lustbird\ssubscribed\sat\sTier\s1.\sThey've\ssubscribed\sfor\s8\smonths!;
# tmi-sent-ts=1568505983582;user-id=39929434;user-type= :tmi.twitch.tv USERNOTICE #xqcow
# :I love you baby xqcL I love you baby xqcL
def usernotice(
    section: str, prefix: str | None, params: list[str], raw: str, received_ts: int | None
) -> UserNotice:
    """A USERNOTICE of any msg-id, kept verbatim, with every msg-param-* tag in `params`."""
    if not params or len(params) > 2:
        raise _param_count_error(raw, params, "channel and an optional text")
    channel = _channel(params[0], raw)
    text = params[1] if len(params) == 2 else None
    tags = parse_tags(section)
    get = tags.get
    notice_type = get("msg-id")
    if not notice_type:
        raise IrcParseError(raw, IrcParseReason.MISSING_TAG, tag="msg-id")
    sent_ts = _int_value(get("tmi-sent-ts"), "tmi-sent-ts", raw, signed=True)
    user_login = get("login") or None
    message_id = get("id") or None
    return UserNotice(
        id=message_id
        or derived_id("usernotice", channel, sent_ts or None, notice_type, user_login, text),
        channel=channel,
        channel_id=get("room-id") or None,
        ts=sent_ts if sent_ts is not None else (received_ts or 0),
        notice_type=notice_type,
        message_id=message_id,
        user_id=get("user-id") or None,
        user_login=user_login,
        display_name=get("display-name") or None,
        text=text,
        # Unlike the other tags, an empty system-msg stays "" (the vectors assert it).
        system_msg=get("system-msg"),
        params={
            key[_PARAM_PREFIX_LEN:]: value
            for key, value in tags.items()
            if key.startswith(_PARAM_PREFIX)
        },
    )


# @ban-duration=600;room-id=40286300;target-user-id=70948394;tmi-sent-ts=1563051113633
# :tmi.twitch.tv CLEARCHAT #randers :weeb123
def clearchat(
    section: str, prefix: str | None, params: list[str], raw: str, received_ts: int | None
) -> ModAction:
    """A ban, a timeout (`ban-duration` seconds) or, without a target, a clear of the whole chat."""
    if not params or len(params) > 2:
        raise _param_count_error(raw, params, "channel and an optional target")
    channel = _channel(params[0], raw)
    target_login = params[1] if len(params) == 2 and params[1] else None
    tags = parse_tags(section)
    get = tags.get
    sent_ts = _int_value(get("tmi-sent-ts"), "tmi-sent-ts", raw, signed=True)
    channel_id = get("room-id") or None
    if target_login is None:
        action = "clear"
        target_id = None
        duration = None
    else:
        target_id = get("target-user-id") or None
        duration = _int_value(get("ban-duration"), "ban-duration", raw)
        action = "ban" if duration is None else "timeout"
    return ModAction(
        id=derived_id(
            "clearchat", channel_id or channel, sent_ts or None, target_id or target_login, duration
        ),
        channel=channel,
        channel_id=channel_id,
        ts=sent_ts if sent_ts is not None else (received_ts or 0),
        action=action,
        target_user_id=target_id,
        target_user_login=target_login,
        duration_s=duration,
    )


# @login=ronni;room-id=;target-msg-id=abc-123-def;tmi-sent-ts=1642720582342
# :tmi.twitch.tv CLEARMSG #dallas :HeyGuys
def clearmsg(
    section: str, prefix: str | None, params: list[str], raw: str, received_ts: int | None
) -> ModAction:
    """One deleted message; `message_text` is the raw trailing param (a /me stays wrapped)."""
    if not params or len(params) > 2:
        raise _param_count_error(raw, params, "channel and an optional text")
    channel = _channel(params[0], raw)
    tags = parse_tags(section)
    get = tags.get
    target_message_id = get("target-msg-id")
    if not target_message_id:
        raise IrcParseError(raw, IrcParseReason.MISSING_TAG, tag="target-msg-id")
    sent_ts = _int_value(get("tmi-sent-ts"), "tmi-sent-ts", raw, signed=True)
    return ModAction(
        id=derived_id("clearmsg", target_message_id, channel, sent_ts or None),
        channel=channel,
        channel_id=get("room-id") or None,
        ts=sent_ts if sent_ts is not None else (received_ts or 0),
        action="delete",
        target_user_login=get("login") or None,
        target_message_id=target_message_id,
        message_text=params[1] if len(params) == 2 else None,
    )


def _channel(param: str, raw: str) -> str:
    if len(param) < 2 or param[0] != "#":
        raise IrcParseError(raw, IrcParseReason.INVALID_CHANNEL, f"not a #channel: {param!r}")
    return param[1:]


def _int_value(value: str | None, tag: str, raw: str, *, signed: bool = False) -> int | None:
    """An integer tag value: missing or empty gives None, anything but digits is an error."""
    if not value:
        return None
    digits = value[1:] if signed and value[0] == "-" else value
    if digits.isdecimal() and len(digits) <= _MAX_INT_DIGITS:
        return int(value)
    raise IrcParseError(raw, IrcParseReason.MALFORMED_TAG_VALUE, f"not an integer: {value!r}", tag)


def _param_count_error(raw: str, params: list[str], wanted: str) -> IrcParseError:
    reason = IrcParseReason.MISSING_PARAM if len(params) < 2 else IrcParseReason.MALFORMED_PARAMS
    return IrcParseError(raw, reason, f"expected {wanted}, got {len(params)} params")
