"""A few raw Twitch lines and the whole Struct each must become (twitch-irc-rs style)."""

from __future__ import annotations

import pytest

from twitch_archive.errors import IrcParseError, IrcParseReason
from twitch_archive.events import Badge, Emote, Message, ModAction, UserNotice
from twitch_archive.ids import derived_id
from twitch_archive.irc import IrcLine, parse, parse_line


def test_privmsg_action_reply() -> None:
    """A /me reply from a moderator becomes a Message with every field filled in."""
    raw = (
        "@badge-info=subscriber/22;badges=moderator/1,subscriber/12;color=#19E6E6;"
        "display-name=randers;emotes=25:6-10;first-msg=0;flags=;"
        "id=d831d848-b7c7-4559-ae3a-2cb88f4dbfed;mod=1;"
        "reply-parent-msg-id=6b13e51b-7ecb-43b5-ba5b-2bb5288df696;reply-parent-user-login=pajlada;"
        "room-id=11148817;subscriber=1;tmi-sent-ts=1594555275886;turbo=0;user-id=40286300;"
        "user-type=mod :randers!randers@randers.tmi.twitch.tv PRIVMSG #pajlada "
        ":\x01ACTION -tags Kappa\x01"
    )
    assert parse(raw) == Message(
        id="d831d848-b7c7-4559-ae3a-2cb88f4dbfed",
        channel="pajlada",
        channel_id="11148817",
        ts=1594555275886,
        message_id="d831d848-b7c7-4559-ae3a-2cb88f4dbfed",
        user_id="40286300",
        user_login="randers",
        display_name="randers",
        text="-tags Kappa",
        is_action=True,
        badges=(Badge("moderator", "1"), Badge("subscriber", "12")),
        badge_info=(Badge("subscriber", "22"),),
        emotes=(Emote("25", 6, 10),),
        color="#19E6E6",
        reply_parent_msg_id="6b13e51b-7ecb-43b5-ba5b-2bb5288df696",
        reply_parent_user_login="pajlada",
    )


def test_privmsg_without_tags_gets_a_derived_id_and_received_ts() -> None:
    """A PRIVMSG with no tag section takes `received_ts` and an id hashed from what it has."""
    raw = ":tetyys!tetyys@tetyys.tmi.twitch.tv PRIVMSG #pajlada :KKona"
    assert parse(raw, received_ts=1700000000000) == Message(
        id=derived_id("message", "pajlada", None, "tetyys", "KKona"),
        channel="pajlada",
        ts=1700000000000,
        user_login="tetyys",
        text="KKona",
    )


def test_usernotice_ritual() -> None:
    """A ritual USERNOTICE keeps its msg-id, unescaped system-msg and msg-param-* tags."""
    raw = (
        "@badge-info=;badges=;color=;display-name=SevenTest1;emotes=30259:0-6;"
        "id=37feed0f-b9c7-4c3a-b475-21c6c6d21c3d;login=seventest1;mod=0;msg-id=ritual;"
        "msg-param-ritual-name=new_chatter;room-id=6316121;subscriber=0;"
        "system-msg=Seventoes\\sis\\snew\\shere!;tmi-sent-ts=1508363903826;turbo=0;"
        "user-id=131260580;user-type= :tmi.twitch.tv USERNOTICE #seventoes :HeyGuys"
    )
    assert parse(raw) == UserNotice(
        id="37feed0f-b9c7-4c3a-b475-21c6c6d21c3d",
        channel="seventoes",
        channel_id="6316121",
        ts=1508363903826,
        notice_type="ritual",
        message_id="37feed0f-b9c7-4c3a-b475-21c6c6d21c3d",
        user_id="131260580",
        user_login="seventest1",
        display_name="SevenTest1",
        text="HeyGuys",
        system_msg="Seventoes is new here!",
        params={"ritual-name": "new_chatter"},
    )


def test_clearchat_timeout() -> None:
    """A CLEARCHAT with ban-duration is a timeout with an id hashed from what makes it unique."""
    raw = (
        "@ban-duration=600;room-id=40286300;target-user-id=70948394;tmi-sent-ts=1563051113633 "
        ":tmi.twitch.tv CLEARCHAT #randers :weeb123"
    )
    assert parse(raw) == ModAction(
        id=derived_id("clearchat", "40286300", 1563051113633, "70948394", 600),
        channel="randers",
        channel_id="40286300",
        ts=1563051113633,
        action="timeout",
        target_user_id="70948394",
        target_user_login="weeb123",
        duration_s=600,
    )


def test_clearmsg_keeps_the_raw_text() -> None:
    """A CLEARMSG is a delete whose message_text keeps the /me wrapper; `room-id=` gives null."""
    raw = (
        "@login=randers;room-id=;target-msg-id=15e5164d-f8e6-4aec-baf4-2d6a330760c4;"
        "tmi-sent-ts=1594562632383 :tmi.twitch.tv CLEARMSG #pajlada :\x01ACTION test\x01"
    )
    assert parse(raw) == ModAction(
        id=derived_id("clearmsg", "15e5164d-f8e6-4aec-baf4-2d6a330760c4", "pajlada", 1594562632383),
        channel="pajlada",
        ts=1594562632383,
        action="delete",
        target_user_login="randers",
        target_message_id="15e5164d-f8e6-4aec-baf4-2d6a330760c4",
        message_text="\x01ACTION test\x01",
    )


def test_irc_line_split() -> None:
    """parse_line unescapes tags, keeps the prefix without ':' and uppercases the command."""
    raw = "@a=b\\sc;k :nick!user@host privmsg #chan :hello world"
    assert parse_line(raw) == IrcLine(
        tags={"a": "b c", "k": ""},
        prefix="nick!user@host",
        command="PRIVMSG",
        params=("#chan", "hello world"),
        raw=raw,
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(":tmi.twitch.tv PING", None, id="ping:none"),
        pytest.param(
            "@a=1 PRIVMSG #c :hi\r\n", IrcParseReason.CONTROL_CHARACTER, id="crlf:rejected"
        ),
        pytest.param(
            "@a=1 :u!u@u PRIVMSG c :hi", IrcParseReason.INVALID_CHANNEL, id="no-hash:channel"
        ),
        pytest.param("@a=1 :u!u@u PRIVMSG #c", IrcParseReason.MISSING_PARAM, id="privmsg:no-text"),
        pytest.param(
            "@tmi-sent-ts=x :u!u@u PRIVMSG #c :hi",
            IrcParseReason.MALFORMED_TAG_VALUE,
            id="ts:not-int",
        ),
        pytest.param(
            ":tmi.twitch.tv USERNOTICE #c :hi",
            IrcParseReason.MISSING_TAG,
            id="usernotice:no-msg-id",
        ),
    ],
)
def test_not_an_event(raw: str, reason: IrcParseReason | None) -> None:
    """A line that is no archive event gives None, and a broken one raises with its reason."""
    if reason is None:
        assert parse(raw) is None
    else:
        with pytest.raises(IrcParseError) as info:
            parse(raw)
        assert info.value.reason is reason
