"""Replay rewriting and pacing: fresh ids, the target channel, and the log's own rhythm."""

from __future__ import annotations

import asyncio
import gzip
import random
import time
from pathlib import Path

import pytest

from twitch_archive.events import Message, ModAction
from twitch_archive.irc import parse
from twitch_archive.simulator.replay import Replay, Rewriter, log_ts, read_log
from twitch_archive.simulator.traffic import room_id

PRIVMSG = (
    "@badge-info=;badges=;color=#FF0000;display-name=Alice;emotes=25:0-4;id=11111111-1111-4111-8111-"
    "111111111111;mod=0;room-id=123;subscriber=0;tmi-sent-ts=1000;turbo=0;user-id=42;user-type= "
    ":alice!alice@alice.tmi.twitch.tv PRIVMSG #source :Kappa hello"
)
REPLY = (
    "@display-name=Bob;id=22222222-2222-4222-8222-222222222222;reply-parent-msg-id=11111111-1111-"
    "4111-8111-111111111111;reply-parent-user-login=alice;room-id=123;tmi-sent-ts=1500;user-id=43 "
    ":bob!bob@bob.tmi.twitch.tv PRIVMSG #source :@Alice hi"
)
CLEARMSG = (
    "@login=alice;room-id=123;target-msg-id=11111111-1111-4111-8111-111111111111;tmi-sent-ts=2000 "
    ":tmi.twitch.tv CLEARMSG #source :Kappa hello"
)
CLEARCHAT = (
    "@ban-duration=10;room-id=123;target-user-id=42;tmi-sent-ts=3000 "
    ":tmi.twitch.tv CLEARCHAT #source :alice"
)
LOG = [
    PRIVMSG,
    "PING :tmi.twitch.tv",
    REPLY,
    CLEARMSG,
    ":tmi.twitch.tv 001 justinfan1 :Welcome",
    CLEARCHAT,
]


def test_rewrite_moves_a_message_to_the_target_channel() -> None:
    """Channel, room-id, id and tmi-sent-ts are rewritten; the rest of the line is kept."""
    rewritten = Rewriter("target", random.Random(1)).rewrite(PRIVMSG, 99_000)
    assert rewritten is not None
    line, event_id = rewritten
    event = parse(line)
    assert isinstance(event, Message)
    assert event.channel == "target"
    assert event.channel_id == room_id("target")
    assert event.ts == 99_000
    assert event.id == event_id
    assert event.id != "11111111-1111-4111-8111-111111111111"
    assert event.text == "Kappa hello"
    assert event.user_login == "alice"
    assert event.emotes


def test_replies_and_deletions_follow_the_new_ids() -> None:
    """A reply's parent id and a CLEARMSG's target are mapped to the replayed message's new id."""
    rewriter = Rewriter("target", random.Random(2))
    first = rewriter.rewrite(PRIVMSG, 1)
    reply = rewriter.rewrite(REPLY, 2)
    delete = rewriter.rewrite(CLEARMSG, 3)
    assert first is not None
    assert reply is not None
    assert delete is not None
    new_id = first[1]
    reply_event = parse(reply[0])
    delete_event = parse(delete[0])
    assert isinstance(reply_event, Message)
    assert isinstance(delete_event, ModAction)
    assert reply_event.reply_parent_msg_id == new_id
    assert delete_event.target_message_id == new_id


def test_two_passes_never_share_ids() -> None:
    """Replaying the same lines later gives different event ids (so replays can repeat)."""
    ids = []
    for now_ms in (5, 6):
        rewriter = Rewriter("target")
        ids.append({r[1] for raw in LOG if (r := rewriter.rewrite(raw, now_ms)) is not None})
    assert not ids[0] & ids[1]


def test_connection_lines_are_skipped_and_malformed_pass_through() -> None:
    """PING and numerics are not channel traffic; a malformed line is replayed as it is."""
    rewriter = Rewriter("target")
    assert rewriter.rewrite("PING :tmi.twitch.tv", 1) is None
    assert rewriter.rewrite(":tmi.twitch.tv 001 justinfan1 :Welcome", 1) is None
    assert rewriter.rewrite("@tags-only", 1) == ("@tags-only", None)


def test_read_log_reads_plain_and_gzip(tmp_path: Path) -> None:
    """Both plain and gzipped logs give their lines without line ends."""
    plain = tmp_path / "log.txt"
    plain.write_text("\r\n".join(LOG) + "\r\n\r\n")
    packed = tmp_path / "log.txt.gz"
    packed.write_bytes(gzip.compress("\n".join(LOG).encode()))
    assert list(read_log(plain)) == LOG
    assert list(read_log(packed)) == LOG


def test_log_ts_reads_the_tag_only() -> None:
    """log_ts finds tmi-sent-ts in the tags and ignores lines without it."""
    assert log_ts(PRIVMSG) == 1000
    assert log_ts("PING :x") is None
    assert log_ts("@a=1 :x PRIVMSG #c :tmi-sent-ts=5") is None


class _Sink:
    def __init__(self) -> None:
        self.lines: list[tuple[float, str, str, str | None]] = []

    def publish(self, channel: str, line: str, event_id: str | None) -> int:
        self.lines.append((time.monotonic(), channel, line, event_id))
        return 1

    async def wait_writable(self) -> None:
        return None


async def test_replay_keeps_the_pace_scaled_by_speed(tmp_path: Path) -> None:
    """At speed 10 the log's 2 s span takes about 0.2 s, and every channel gets every line."""
    path = tmp_path / "log.txt"
    path.write_text("\n".join(LOG))
    sink = _Sink()
    started = time.monotonic()
    await Replay(path, ["a", "b"], 10.0).run(sink)
    elapsed = time.monotonic() - started
    assert 0.15 < elapsed < 1.0
    assert [c for _, c, _, _ in sink.lines] == ["a", "b"] * 4
    assert sink.lines[-1][0] - sink.lines[0][0] > 0.15


async def test_replay_at_max_speed_does_not_wait(tmp_path: Path) -> None:
    """Speed max replays without pauses; loop repeats the log with fresh ids each pass."""
    path = tmp_path / "log.txt"
    path.write_text("\n".join(LOG))
    sink = _Sink()
    replay = Replay(path, ["a"], None, loop=True)
    task = asyncio.create_task(replay.run(sink))
    while replay.passes < 3:  # noqa: ASYNC110 - a test watching a counter
        await asyncio.sleep(0.01)
    task.cancel()
    ids = [i for _, _, _, i in sink.lines if i is not None]
    assert len(ids) >= 12
    assert len(set(ids)) == len(ids)


def test_replay_needs_a_file_and_channels(tmp_path: Path) -> None:
    """A missing file or an empty channel list is refused up front."""
    with pytest.raises(FileNotFoundError):
        Replay(tmp_path / "missing.txt", ["a"], 1.0)
    path = tmp_path / "log.txt"
    path.write_text(PRIVMSG)
    with pytest.raises(ValueError, match="channel"):
        Replay(path, [], 1.0)
