"""Generated traffic: deterministic, parseable, and shaped like the learned profile."""

from __future__ import annotations

from collections import Counter

import msgspec
import pytest

from twitch_archive.events import Message, ModAction, UserNotice
from twitch_archive.irc import parse
from twitch_archive.irc.line import parse_line
from twitch_archive.simulator.api import SendRequest
from twitch_archive.simulator.profile import load_profile
from twitch_archive.simulator.traffic import (
    Generated,
    TrafficGenerator,
    room_id,
    uuid_from,
    with_tags,
    zipf_weights,
)
from twitch_archive.simulator.words import EMOJI, EMOTES

START_MS = 1_700_000_000_000
EMOTE_IDS = dict(EMOTES)


@pytest.fixture(scope="module")
def stream() -> list[Generated]:
    """20,000 consecutive lines of one channel."""
    return TrafficGenerator(seed=7).events("busy", 20_000, START_MS, 50)


def test_same_seed_gives_the_same_stream() -> None:
    """Two generators with one seed produce identical events and lines."""
    first = TrafficGenerator(seed=42).events("chan", 500, START_MS)
    second = TrafficGenerator(seed=42).events("chan", 500, START_MS)
    assert first == second


def test_other_seed_or_channel_gives_other_ids() -> None:
    """Seeds and channels have independent streams with distinct ids."""
    a = {g.event.id for g in TrafficGenerator(seed=1).events("chan", 300, START_MS)}
    b = {g.event.id for g in TrafficGenerator(seed=2).events("chan", 300, START_MS)}
    c = {g.event.id for g in TrafficGenerator(seed=1).events("other", 300, START_MS)}
    assert not a & b
    assert not a & c


def test_every_line_parses_back_to_its_event(stream: list[Generated]) -> None:
    """irc.parse(line) equals the generated event for every line."""
    mismatched = [line for event, line in stream if parse(line) != event]
    assert not mismatched, mismatched[:3]


def test_event_ids_are_unique_uuids(stream: list[Generated]) -> None:
    """Message and notice ids are unique version-4 UUIDs."""
    ids = [e.id for e, _ in stream if isinstance(e, Message | UserNotice)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 36 and i[14] == "4" and i[19] in "89ab" for i in ids)


def test_moderation_is_about_one_point_two_percent(stream: list[Generated]) -> None:
    """Bans and timeouts make up about 1.2 % of lines, as in the capture."""
    clearchats = sum(
        1 for e, _ in stream if isinstance(e, ModAction) and e.action in ("ban", "timeout")
    )
    assert 0.008 < clearchats / len(stream) < 0.016


def test_shares_follow_the_profile(stream: list[Generated]) -> None:
    """Emotes, colors, replies, deletions and notices appear at about their profile shares."""
    profile = load_profile()
    messages = [e for e, _ in stream if isinstance(e, Message)]
    with_emotes = sum(1 for m in messages if m.emotes) / len(messages)
    assert abs(with_emotes - profile.messages.emote_share) < 0.03
    replies = sum(1 for m in messages if m.reply_parent_msg_id) / len(messages)
    assert abs(replies - profile.modern.reply_share) < 0.015
    deletes = sum(1 for e, _ in stream if isinstance(e, ModAction) and e.action == "delete")
    assert 0.001 < deletes / len(stream) < 0.006
    notices = sum(1 for e, _ in stream if isinstance(e, UserNotice))
    assert 0.0005 < notices / len(stream) < 0.005
    nonces = sum(1 for _, line in stream if ";client-nonce=" in line) / len(messages)
    assert abs(nonces - profile.modern.client_nonce_share) < 0.03


def test_lengths_follow_the_histogram(stream: list[Generated]) -> None:
    """The median message is short, as in real chat, and none exceeds 500 code points."""
    lengths = sorted(len(e.text) for e, _ in stream if isinstance(e, Message))
    assert 5 <= lengths[len(lengths) // 2] <= 25
    assert lengths[-1] <= 520  # reply mentions may prefix a 500-point text


def test_emote_ranges_point_at_emote_codes(stream: list[Generated]) -> None:
    """Every emote range covers its emote's code in code points (emoji before it included)."""
    checked = 0
    for event, _ in stream:
        if isinstance(event, Message):
            for emote in event.emotes:
                code = event.text[emote.start : emote.end + 1]
                assert EMOTE_IDS[code] == emote.id, (event.text, emote)
                checked += 1
    assert checked > 1000
    assert any(ch in e.text for e, _ in stream if isinstance(e, Message) for ch in EMOJI)


def test_deletions_and_timeouts_target_recent_activity(stream: list[Generated]) -> None:
    """CLEARMSG names a message sent before it; timeouts name users who chatted before."""
    seen_ids: set[str] = set()
    seen_users: set[str] = set()
    for event, _ in stream:
        if isinstance(event, Message):
            seen_ids.add(event.id)
            assert event.user_id is not None
            seen_users.add(event.user_id)
        elif isinstance(event, ModAction) and event.action == "delete":
            assert event.target_message_id in seen_ids
        elif isinstance(event, ModAction) and event.action in ("ban", "timeout"):
            assert event.target_user_id in seen_users


def test_users_are_stable_and_skewed(stream: list[Generated]) -> None:
    """A user id keeps its login, and a few chatters write much of the chat."""
    logins: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    for event, _ in stream:
        if isinstance(event, Message):
            assert event.user_id is not None
            assert event.user_login is not None
            logins.setdefault(event.user_id, set()).add(event.user_login)
            counts[event.user_id] += 1
    assert sum(len(names) > 1 for names in logins.values()) <= 2  # renames are rare
    top = sum(count for _, count in counts.most_common(len(counts) // 10))
    assert top > 0.3 * sum(counts.values())


def test_renames_keep_the_user_id() -> None:
    """With every user renaming, logins change while user ids stay."""
    profile = load_profile()
    users = msgspec.structs.replace(profile.users, rename_share=1.0)
    generator = TrafficGenerator(msgspec.structs.replace(profile, users=users), seed=3)
    logins: dict[str, set[str]] = {}
    for event, _ in generator.events("chan", 3000, START_MS):
        if isinstance(event, Message):
            assert event.user_id is not None
            assert event.user_login is not None
            logins.setdefault(event.user_id, set()).add(event.user_login)
    assert any(len(names) == 2 for names in logins.values())


def test_some_users_chat_in_several_channels() -> None:
    """Channels share a small population of cross-channel chatters."""
    generator = TrafficGenerator(seed=5)
    users = [
        {
            g.event.user_id
            for g in generator.events(name, 3000, START_MS)
            if isinstance(g.event, Message)
        }
        for name in ("one", "two")
    ]
    shared = users[0] & users[1]
    assert shared
    assert len(shared) < 0.5 * min(len(u) for u in users)


def test_modern_tags_appear_on_replies_and_shared_chat(stream: list[Generated]) -> None:
    """Replies carry reply-thread-* tags and shared-chat messages source-* tags."""
    replies = [
        parse_line(line).tags
        for e, line in stream
        if isinstance(e, Message) and e.reply_parent_msg_id
    ]
    assert replies
    assert all("reply-thread-parent-msg-id" in tags for tags in replies)
    shared = [
        parse_line(line).tags
        for e, line in stream
        if isinstance(e, Message) and e.source_channel_id
    ]
    assert shared
    assert all({"source-id", "source-badges", "source-only"} <= set(tags) for tags in shared)


def test_usernotice_kinds_are_varied(stream: list[Generated]) -> None:
    """Notices include subs and resubs with Twitch-shaped params and system messages."""
    generator = TrafficGenerator(seed=11)
    traffic = generator.channel("subs")
    kinds: Counter[str] = Counter()
    for i in range(300):
        generated = traffic._usernotice(START_MS + i)
        event = generated.event
        assert isinstance(event, UserNotice)
        assert parse(generated.line) == event
        kinds[event.notice_type] += 1
    assert {"sub", "resub", "subgift"} <= set(kinds)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        pytest.param("message", {"user_login": "alice", "text": "hello there"}, id="message"),
        pytest.param("timeout", {"user_login": "alice", "duration_s": 30}, id="timeout:30s"),
        pytest.param("ban", {"user_login": "alice"}, id="ban"),
        pytest.param("clear", {}, id="clear"),
        pytest.param("usernotice", {"user_login": "alice", "notice_type": "raid"}, id="raid"),
    ],
)
def test_make_builds_the_requested_event(kind: str, fields: dict[str, object]) -> None:
    """make() returns the asked-for event, and its line parses back to it."""
    traffic = TrafficGenerator(seed=1).channel("chan")
    request = msgspec.convert({"channel": "chan", "kind": kind, **fields}, SendRequest)
    generated = traffic.make(request, START_MS)
    assert parse(generated.line) == generated.event
    if kind == "message":
        assert isinstance(generated.event, Message)
        assert generated.event.text == "hello there"
        assert generated.event.user_login == "alice"
    elif kind == "timeout":
        assert isinstance(generated.event, ModAction)
        assert generated.event.duration_s == 30
        assert generated.event.target_user_login == "alice"


def test_make_delete_targets_the_given_message() -> None:
    """A delete of a known message carries its login and text."""
    traffic = TrafficGenerator(seed=1).channel("chan")
    sent = traffic.make(SendRequest(channel="chan", user_login="bob", text="oops"), START_MS)
    deleted = traffic.make(
        SendRequest(channel="chan", kind="delete", target_message_id=sent.event.id), START_MS + 1
    )
    assert isinstance(deleted.event, ModAction)
    assert deleted.event.target_message_id == sent.event.id
    assert deleted.event.target_user_login == "bob"
    assert deleted.event.message_text == "oops"


def test_room_id_is_stable_and_numeric() -> None:
    """A channel's room id depends on its name only."""
    assert room_id("forsen") == room_id("forsen")
    assert room_id("forsen") != room_id("xqc")
    assert room_id("forsen").isdecimal()


def test_with_tags_merges_and_escapes() -> None:
    """Extra tags are escaped, replace existing keys and keep the tags sorted."""
    line = "@b=1;d=2 :tmi.twitch.tv CLEARCHAT #x"
    merged = with_tags(line, [("c", "a b"), ("d", "3")])
    assert merged == "@b=1;c=a\\sb;d=3 :tmi.twitch.tv CLEARCHAT #x"
    assert with_tags(":x PING", [("a", "1")]) == "@a=1 :x PING"


def test_uuid_and_zipf_helpers() -> None:
    """uuid_from is seeded, and Zipf weights fall with rank."""
    import random

    assert uuid_from(random.Random(1)) == uuid_from(random.Random(1))
    weights = zipf_weights(4, 1.0)
    assert weights == sorted(weights, reverse=True)
    assert zipf_weights(3, 0.0) == [1.0, 1.0, 1.0]
