"""Public item shapes: every event field reaches its item, camelCase keys, UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from twitch_archive.codec import decode_event
from twitch_archive.events import Badge, Emote, Message, ModAction, UserNotice
from twitch_archive.views import (
    BadgeView,
    EmoteView,
    MessageView,
    ModActionView,
    UserNoticeView,
    message_view,
    mod_action_view,
    ms_to_datetime,
    usernotice_view,
)

PACKAGE = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    path
    for kind in ("message", "usernotice", "mod_action")  # coverage_gap has no public item
    for path in (PACKAGE / "examples" / "events" / kind).glob("*.json")
)
TS = 1_732_406_402_789
AT = datetime(2024, 11, 24, 0, 0, 2, 789_000, tzinfo=UTC)

MESSAGE = Message(
    id="m-1",
    channel="examplechannel",
    channel_id="100000001",
    ts=TS,
    message_id="m-1",
    user_id="200000003",
    user_login="cheerer",
    display_name="Cheerer",
    text="Kappa hi",
    is_action=True,
    badges=(Badge(name="bits", version="100"),),
    badge_info=(Badge(name="subscriber", version="14"),),
    emotes=(Emote(id="25", start=0, end=4),),
    color="#FF0000",
    bits=100,
    first_msg=True,
    reply_parent_msg_id="parent-1",
    reply_parent_user_login="viewer_one",
    source_channel_id="100000009",
)
NOTICE = UserNotice(
    id="n-1",
    channel="examplechannel",
    channel_id="100000001",
    ts=TS,
    notice_type="resub",
    message_id="n-1",
    user_id="200000004",
    user_login="loyal_sub",
    display_name="Loyal_Sub",
    text="two years",
    system_msg="Loyal_Sub subscribed at Tier 1.",
    params={"cumulative-months": "24"},
)
ACTION = ModAction(
    id="a-1",
    channel="examplechannel",
    channel_id="100000001",
    ts=TS,
    action="timeout",
    target_user_id="200000005",
    target_user_login="spammer",
    duration_s=600,
    target_message_id="m-0",
    message_text="buy followers",
    moderator_id="300",
    moderator_login="mod_one",
    reason="spam",
)


def _wire(view: msgspec.Struct) -> dict[str, object]:
    decoded: dict[str, object] = msgspec.json.decode(msgspec.json.encode(view))
    return decoded


def test_message_view_maps_every_field() -> None:
    """Each message field lands in the item; live items are not deleted and have no highlights."""
    assert message_view(MESSAGE) == MessageView(
        id="m-1",
        channel="examplechannel",
        channel_id="100000001",
        sent_at=AT,
        user_id="200000003",
        user_login="cheerer",
        display_name="Cheerer",
        text="Kappa hi",
        is_action=True,
        badges=(BadgeView(name="bits", version="100"),),
        badge_info=(BadgeView(name="subscriber", version="14"),),
        emotes=(EmoteView(id="25", start=0, end=4),),
        color="#FF0000",
        bits=100,
        first_msg=True,
        reply_parent_msg_id="parent-1",
        reply_parent_user_login="viewer_one",
        source_channel_id="100000009",
        deleted=False,
        deleted_at=None,
        highlights=None,
    )


def test_every_message_field_has_an_item_key() -> None:
    """Only `ts` (as `sentAt`) and `message_id` (the message's `id` itself) have no own key."""
    event_fields = {f.name for f in msgspec.structs.fields(Message)}
    view_fields = {f.name for f in msgspec.structs.fields(MessageView)}
    assert event_fields - view_fields == {"ts", "message_id"}


def test_usernotice_view_maps_every_field() -> None:
    """Each usernotice field lands in the item, params included (nothing left out but `ts`)."""
    event_fields = {f.name for f in msgspec.structs.fields(UserNotice)}
    assert event_fields - {f.name for f in msgspec.structs.fields(UserNoticeView)} == {"ts"}
    assert usernotice_view(NOTICE) == UserNoticeView(
        id="n-1",
        channel="examplechannel",
        channel_id="100000001",
        sent_at=AT,
        notice_type="resub",
        message_id="n-1",
        user_id="200000004",
        user_login="loyal_sub",
        display_name="Loyal_Sub",
        text="two years",
        system_msg="Loyal_Sub subscribed at Tier 1.",
        params={"cumulative-months": "24"},
    )


def test_mod_action_view_maps_every_field() -> None:
    """Each moderation field lands in the item; `duration_s` is `durationSeconds`."""
    event_fields = {f.name for f in msgspec.structs.fields(ModAction)}
    view_fields = {f.name for f in msgspec.structs.fields(ModActionView)}
    assert event_fields - view_fields == {"ts", "duration_s"}
    assert mod_action_view(ACTION) == ModActionView(
        id="a-1",
        channel="examplechannel",
        channel_id="100000001",
        action="timeout",
        created_at=AT,
        target_user_id="200000005",
        target_user_login="spammer",
        duration_seconds=600,
        target_message_id="m-0",
        message_text="buy followers",
        moderator_id="300",
        moderator_login="mod_one",
        reason="spam",
    )


def test_message_keys_are_camel_case() -> None:
    """The wire keys are camelCase, the way the REST API writes them."""
    assert list(_wire(message_view(MESSAGE))) == [
        "id", "channel", "channelId", "sentAt", "userId", "userLogin", "displayName", "text",
        "isAction", "badges", "badgeInfo", "emotes", "color", "bits", "firstMsg",
        "replyParentMsgId", "replyParentUserLogin", "sourceChannelId", "deleted", "deletedAt",
        "highlights",
    ]  # fmt: skip


def test_usernotice_and_mod_action_keys_are_camel_case() -> None:
    """Usernotice and moderation items use camelCase keys too."""
    assert list(_wire(usernotice_view(NOTICE))) == [
        "id", "channel", "channelId", "sentAt", "noticeType", "messageId", "userId", "userLogin",
        "displayName", "text", "systemMsg", "params",
    ]  # fmt: skip
    assert list(_wire(mod_action_view(ACTION))) == [
        "id", "channel", "channelId", "action", "createdAt", "targetUserId", "targetUserLogin",
        "durationSeconds", "targetMessageId", "messageText", "moderatorId", "moderatorLogin",
        "reason",
    ]  # fmt: skip


def test_times_are_rfc3339_utc_and_channel_id_a_string() -> None:
    """Times encode as RFC 3339 in UTC with milliseconds; the room id stays a string."""
    wire = _wire(message_view(MESSAGE))
    assert wire["sentAt"] == "2024-11-24T00:00:02.789000Z"
    assert wire["channelId"] == "100000001"


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        pytest.param(0, datetime(1970, 1, 1, tzinfo=UTC), id="epoch"),
        pytest.param(TS, AT, id="exact-milliseconds"),
        pytest.param(-1_000, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), id="negative"),
        pytest.param(-(10**18), datetime.min.replace(tzinfo=UTC), id="clamped-low"),
        pytest.param(10**18, datetime.max.replace(tzinfo=UTC, microsecond=999_000), id="high"),
    ],
)
def test_ms_to_datetime(ts: int, expected: datetime) -> None:
    """Milliseconds become an exact UTC datetime, and junk times never raise."""
    assert ms_to_datetime(ts) == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_examples_convert(path: Path) -> None:
    """Every example message, usernotice and mod action converts to an item that round-trips."""
    event = decode_event(path.read_bytes())
    view: msgspec.Struct
    if isinstance(event, Message):
        view = message_view(event)
    elif isinstance(event, UserNotice):
        view = usernotice_view(event)
    elif isinstance(event, ModAction):
        view = mod_action_view(event)
    else:
        pytest.fail(f"unexpected example type {type(event).__name__}")
    again = msgspec.json.decode(msgspec.json.encode(view), type=type(view))
    assert again == view
    assert again.id == event.id  # type: ignore[attr-defined]  # every view has an id
