"""Learn the generator's statistical profile from a real raw IRC capture.

Run `uv run python -m twitch_archive.simulator.learn [CAPTURE] [-o profile.json]`. Only derived
numbers are written: no line, word, name or id of the capture reaches the profile.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import math
import sys
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from pathlib import Path

from twitch_archive.errors import IrcParseError
from twitch_archive.events import Message, ModAction, UserNotice
from twitch_archive.irc import parse, parse_line
from twitch_archive.irc.tags import parse_badges
from twitch_archive.simulator.profile import (
    PROFILE_VERSION,
    LengthBin,
    MessageProfile,
    ModerationProfile,
    ModernProfile,
    Profile,
    Source,
    UserNoticeProfile,
    UserProfile,
    Weighted,
    encode_profile,
)

REPO_ROOT = Path(__file__).resolve().parents[5]
DEFAULT_CAPTURE = REPO_ROOT.parent / "shared" / "testdata" / "irc" / "go-twitch-irc-channel.txt.gz"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "profile.json"

LENGTH_EDGES = (1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 64, 80, 100, 130, 170, 220,
                300, 400, 501)  # fmt: skip
MONTH_EDGES = (1, 2, 3, 4, 6, 9, 12, 18, 24, 36, 48, 60, 121)
RECENT_LINES = 200
REPEAT_WINDOW_MS = 3000
DIGITS = 6

# Features the 2019 capture predates or cannot show; documented as assumptions in docs/simulator.md.
ASSUMED_KIND_MIX = {
    "subgift": 0.17,
    "submysterygift": 0.05,
    "raid": 0.03,
    "announcement": 0.04,
    "viewermilestone": 0.06,
    "giftpaidupgrade": 0.02,
    "primepaidupgrade": 0.01,
    "bitsbadgetier": 0.01,
    "ritual": 0.01,
}
ASSUMED_BITS = (("1", 0.3), ("10", 0.15), ("50", 0.1), ("100", 0.3), ("500", 0.08), ("1000", 0.07))
ASSUMED_MODERN = ModernProfile(
    reply_share=0.05,
    thread_reply_share=0.3,
    first_msg_share=0.01,
    returning_chatter_share=0.03,
    client_nonce_share=0.85,
    shared_chat_share=0.01,
)
ASSUMED_DELETE_SHARE = 0.003
ASSUMED_CLEAR_SHARE = 0.00002
ASSUMED_CROSS_CHANNEL_SHARE = 0.1
ASSUMED_RENAME_SHARE = 0.002


def read_lines(path: Path) -> list[str]:
    """Lines of a plain or gzipped raw log, without line ends or empty lines."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace")
    return [line.rstrip("\r") for line in text.split("\n") if line.strip("\r")]


def _share(part: float, whole: float) -> float:
    return round(part / whole, DIGITS) if whole else 0.0


def _bins(values: Iterable[int], edges: Sequence[int]) -> tuple[LengthBin, ...]:
    counts = [0] * (len(edges) - 1)
    total = 0
    for value in values:
        for i in range(len(edges) - 1):
            if edges[i] <= value < edges[i + 1]:
                counts[i] += 1
                total += 1
                break
    return tuple(
        LengthBin(edges[i], edges[i + 1] - 1, _share(count, total))
        for i, count in enumerate(counts)
        if count
    )


def _weighted(counter: Counter[str], limit: int = 16) -> tuple[Weighted, ...]:
    total = sum(counter.values())
    return tuple(
        Weighted(value, _share(count, total)) for value, count in counter.most_common(limit)
    )


def zipf_exponent(counts: Sequence[int]) -> float:
    """Least-squares slope of log(count) over log(rank) for chatters with two or more messages."""
    ranked = sorted((count for count in counts if count >= 2), reverse=True)
    if len(ranked) < 3:
        return 1.0
    xs = [math.log(rank) for rank in range(1, len(ranked) + 1)]
    ys = [math.log(count) for count in ranked]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return round(-num / den, 4) if den else 1.0


def learn(lines: Sequence[str], name: str, sha256: str) -> Profile:
    """Compute the profile of a capture's lines."""
    messages: list[Message] = []
    notices: list[UserNotice] = []
    clearchats: list[ModAction] = []
    user_counts: Counter[str] = Counter()
    user_tags: dict[str, dict[str, str]] = {}
    emote_only = 0
    notice_plans: Counter[str] = Counter()
    notice_months: list[int] = []
    notice_streaks = 0
    recent_users: deque[str] = deque(maxlen=RECENT_LINES)
    recent_targets = 0
    repeats = 0
    repeat_gaps: list[int] = []
    last_clear: tuple[str | None, int] | None = None
    ts_all: list[int] = []
    for raw in lines:
        try:
            split = parse_line(raw)
            event = parse(raw)
        except IrcParseError:
            continue
        if event is None:
            continue
        tags, command = split.tags, split.command
        if event.ts:
            ts_all.append(event.ts)
        if isinstance(event, Message):
            messages.append(event)
            if event.user_id:
                user_counts[event.user_id] += 1
                user_tags[event.user_id] = tags
                recent_users.append(event.user_id)
            emote_only += tags.get("emote-only") == "1"
        elif isinstance(event, UserNotice):
            notices.append(event)
            notice_plans[event.params.get("sub-plan", "")] += 1
            months = event.params.get("cumulative-months", "")
            if months.isdecimal():
                notice_months.append(int(months))
            notice_streaks += event.params.get("should-share-streak") == "1"
        elif (
            isinstance(event, ModAction)
            and command == "CLEARCHAT"
            and event.action in ("ban", "timeout")
        ):
            clearchats.append(event)
            target = event.target_user_id
            if last_clear is not None and last_clear[0] == target:
                gap = abs(event.ts - last_clear[1])
                if gap <= REPEAT_WINDOW_MS:
                    repeats += 1
                    repeat_gaps.append(gap)
                    last_clear = None
                    continue
            last_clear = (target, event.ts)
            recent_targets += target in recent_users

    total = len(lines)
    duration = (max(ts_all) - min(ts_all)) / 1000 if len(ts_all) > 1 else 1.0
    msg_count = len(messages)
    with_emotes = [m for m in messages if m.emotes]
    users = list(user_tags.values())
    badge_users: Counter[str] = Counter()
    badge_versions: dict[str, Counter[str]] = {}
    positions: dict[str, list[float]] = {}
    sub_months: list[int] = []
    for tags in users:
        badges = parse_badges(tags.get("badges", ""))
        for index, badge in enumerate(badges):
            badge_users[badge.name] += 1
            badge_versions.setdefault(badge.name, Counter())[badge.version] += 1
            positions.setdefault(badge.name, []).append(index / max(1, len(badges) - 1))
        sub_months.extend(
            max(1, int(info.version))
            for info in parse_badges(tags.get("badge-info", ""))
            if info.name == "subscriber" and info.version.isdecimal()
        )
    order = sorted(positions, key=lambda name: (sum(positions[name]) / len(positions[name]), name))
    logins = {m.user_id: m.user_login or "" for m in messages if m.user_id}
    names = {m.user_id: m.display_name or "" for m in messages if m.user_id}
    localized = sum(1 for uid in names if names[uid].lower() != logins[uid])
    lowercase = sum(1 for uid in names if names[uid] == logins[uid])
    colored = sum(1 for tags in users if tags.get("color"))
    kinds_observed = Counter(n.notice_type for n in notices)
    sub_like = kinds_observed["sub"] + kinds_observed["resub"]
    sub_weight = 1.0 - sum(ASSUMED_KIND_MIX.values())
    kinds = {
        "sub": round(sub_weight * _share(kinds_observed["sub"], sub_like or 1), DIGITS),
        "resub": round(sub_weight * _share(kinds_observed["resub"], sub_like or 1), DIGITS),
        **ASSUMED_KIND_MIX,
    }
    if not sub_like:
        kinds["sub"] = kinds["resub"] = round(sub_weight / 2, DIGITS)
    durations: Counter[str] = Counter(
        str(c.duration_s) for c in clearchats if c.action == "timeout"
    )
    unique_clears = len(clearchats) - repeats
    repeat_gaps.sort()
    return Profile(
        version=PROFILE_VERSION,
        source=Source(
            name=name,
            sha256=sha256,
            lines=total,
            duration_s=round(duration, 3),
            lines_per_s=round(total / duration, 4),
        ),
        messages=MessageProfile(
            length_bins=_bins((len(m.text) for m in messages), LENGTH_EDGES),
            emote_share=_share(len(with_emotes), msg_count),
            emote_counts=_weighted(Counter(str(len(m.emotes)) for m in with_emotes), limit=40),
            emote_only_share=_share(emote_only, msg_count),
            mention_share=_share(sum(m.text.startswith("@") for m in messages), msg_count),
            emoji_share=_share(
                sum(any(ord(ch) > 0xFFFF for ch in m.text) for m in messages), msg_count
            ),
            action_share=_share(sum(m.is_action for m in messages), msg_count),
            bits_share=_share(sum(m.bits is not None for m in messages), msg_count),
            bits_amounts=tuple(Weighted(value, weight) for value, weight in ASSUMED_BITS),
        ),
        users=UserProfile(
            users_per_rate=round(len(user_counts) / (msg_count / duration), 3) if msg_count else 0,
            activity_zipf=zipf_exponent(list(user_counts.values())),
            color_share=_share(colored, len(users)),
            localized_name_share=_share(localized, len(names)),
            lowercase_name_share=_share(lowercase, len(names)),
            badges={name: _share(count, len(users)) for name, count in badge_users.most_common()},
            badge_versions={
                name: _weighted(counter, limit=12) for name, counter in badge_versions.items()
            },
            badge_order=tuple(order),
            subscriber_months=_bins(sub_months, MONTH_EDGES),
            cross_channel_share=ASSUMED_CROSS_CHANNEL_SHARE,
            rename_share=ASSUMED_RENAME_SHARE,
        ),
        usernotices=UserNoticeProfile(
            share=_share(len(notices), total),
            kinds_observed={
                kind: _share(count, len(notices)) for kind, count in kinds_observed.most_common()
            },
            kinds=kinds,
            text_share=_share(sum(n.text is not None for n in notices), len(notices)),
            plans=_weighted(notice_plans),
            cumulative_months=_bins(notice_months, MONTH_EDGES),
            streak_share=_share(notice_streaks, len(notices)),
        ),
        moderation=ModerationProfile(
            clearchat_share=_share(len(clearchats), total),
            ban_share=_share(sum(c.action == "ban" for c in clearchats), len(clearchats)),
            timeout_durations=_weighted(durations),
            repeat_share=_share(repeats, unique_clears),
            repeat_delay_ms=repeat_gaps[len(repeat_gaps) // 2] if repeat_gaps else 0,
            recent_target_share=_share(recent_targets, unique_clears),
            delete_share=ASSUMED_DELETE_SHARE,
            clear_share=ASSUMED_CLEAR_SHARE,
        ),
        modern=ASSUMED_MODERN,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: learn the profile of a capture and write it as JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m twitch_archive.simulator.learn",
        description="Learn the simulator's traffic profile from a raw Twitch IRC capture.",
    )
    parser.add_argument("capture", nargs="?", type=Path, default=DEFAULT_CAPTURE)
    parser.add_argument(
        "-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="'-' writes to standard output"
    )
    args = parser.parse_args(argv)
    capture: Path = args.capture
    data = capture.read_bytes()
    profile = learn(read_lines(capture), capture.name, hashlib.sha256(data).hexdigest())
    encoded = encode_profile(profile)
    if str(args.output) == "-":
        sys.stdout.buffer.write(encoded)
    else:
        Path(args.output).write_bytes(encoded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
