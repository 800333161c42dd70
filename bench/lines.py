"""Write deterministic, modern, PRIVMSG-heavy Twitch IRC lines (about 450 bytes each) for benches.

Usage: uv run python bench/lines.py OUT [--count 200000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

CHANNELS = [
    ("xqc", "71092938"),
    ("forsen", "22484632"),
    ("pajlada", "11148817"),
    ("kaicenat", "641972806"),
]
EMOTES = {
    "Kappa": "25",
    "LUL": "425618",
    "PogChamp": "305954156",
    "Kreygasm": "41",
    "ResidentSleeper": "245",
    "BibleThump": "86",
    "SeemsGood": "64138",
    "NotLikeThis": "58765",
    "emotesv2_a1b2c3": "emotesv2_0f2d8b8a4e9c4f6fa1b2c3d4e5f60718",
}
_WORDS_TEXT = """
the a to is it that this what lol yes no why chat stream bro play game just like so when
KEKW OMEGALUL monkaS Clap xdd Aware catJAM pepeLaugh gg ez wp true real he is cooking
how did he do that never seen this before wait for it content streamer moment
"""
WORDS = _WORDS_TEXT.split()
FOREIGN = ["привет чат", "이거 뭐야", "ありがとう", "señor qué pasó", "😂😂😂", "🔥", "👉👈", "❤"]
BADGE_SETS = [
    ("", ""),
    ("subscriber/14", "subscriber/12,premium/1"),
    ("subscriber/3", "subscriber/3"),
    ("subscriber/27", "subscriber/24,bits/1000"),
    ("", "premium/1"),
    ("founder/40", "vip/1,founder/0"),
    ("subscriber/52", "moderator/1,subscriber/48,partner/1"),
    ("predictions/Day\\s53/53\\sforsenSmug,subscriber/67", "predictions/blue-1,subscriber/60"),
    ("", "glhf-pledge/1"),
    ("subscriber/8", "subscriber/6,sub-gifter/5"),
]
COLORS = ["", "#1E90FF", "#FF4500", "#00FF7F", "#8A2BE2", "#DAA520", "#FF69B4", "#2E8B57"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _user(rng: random.Random) -> tuple[str, str, str]:
    n = rng.randrange(60_000)
    login = f"viewer{n}{'_abcdefghij'[n % 11] * (n % 4)}"
    display = "시청자" + str(n) if n % 97 == 0 else login.replace("viewer", "Viewer")
    return login, display, str(100_000_000 + n * 37)


def _text(rng: random.Random) -> tuple[str, str]:
    """Message text and its emotes tag (code point offsets, end inclusive, in tag order)."""
    words: list[str] = []
    target = rng.choice((2, 4, 8, 12, 20, 30, 45))
    while sum(len(w) + 1 for w in words) < target:
        roll = rng.random()
        if roll < 0.15:
            words.append(rng.choice(list(EMOTES)))
        elif roll < 0.2:
            words.append(rng.choice(FOREIGN))
        else:
            words.append(rng.choice(WORDS))
    text = " ".join(words)
    groups: dict[str, list[str]] = {}
    pos = 0
    for word in words:
        if word in EMOTES:
            groups.setdefault(EMOTES[word], []).append(f"{pos}-{pos + len(word) - 1}")
        pos += len(word) + 1
    return text, "/".join(f"{eid}:{','.join(spans)}" for eid, spans in groups.items())


def _privmsg(rng: random.Random, ts: int) -> str:
    channel, room_id = rng.choice(CHANNELS)
    login, display, user_id = _user(rng)
    badge_info, badges = rng.choice(BADGE_SETS)
    text, emotes = _text(rng)
    tags = [
        f"badge-info={badge_info}",
        f"badges={badges}",
    ]
    if rng.random() < 0.01:
        tags.append(f"bits={rng.choice((1, 100, 500, 5000))}")
    tags += [
        f"client-nonce={rng.getrandbits(128):032x}",
        f"color={rng.choice(COLORS)}",
        f"display-name={display}",
        f"emote-only={1 if emotes and rng.random() < 0.05 else 0}",
        f"emotes={emotes}",
        f"first-msg={1 if rng.random() < 0.02 else 0}",
        "flags=" + ("0-4:P.5" if rng.random() < 0.05 else ""),
        f"id={_uuid(rng)}",
        f"mod={1 if 'moderator' in badges else 0}",
    ]
    if rng.random() < 0.07:
        p_login, p_display, p_id = _user(rng)
        body = _text(rng)[0].replace("\\", "\\\\").replace(" ", "\\s").replace(";", "\\:")
        parent = _uuid(rng)
        tags += [
            f"reply-parent-display-name={p_display}",
            f"reply-parent-msg-body={body}",
            f"reply-parent-msg-id={parent}",
            f"reply-parent-user-id={p_id}",
            f"reply-parent-user-login={p_login}",
            f"reply-thread-parent-display-name={p_display}",
            f"reply-thread-parent-msg-id={parent}",
            f"reply-thread-parent-user-id={p_id}",
            f"reply-thread-parent-user-login={p_login}",
        ]
        text = f"@{p_display} {text}"
        tags[tags.index(f"emotes={emotes}")] = "emotes="
    tags += [f"returning-chatter={1 if rng.random() < 0.05 else 0}", f"room-id={room_id}"]
    if rng.random() < 0.03:
        source_room, source_id = rng.choice(CHANNELS)[1], _uuid(rng)
        tags += [
            f"source-badge-info={badge_info}",
            f"source-badges={badges}",
            f"source-id={source_id}",
            "source-only=0",
            f"source-room-id={source_room}",
        ]
    tags += [
        f"subscriber={1 if 'subscriber' in badges or 'founder' in badges else 0}",
        f"tmi-sent-ts={ts}",
        "turbo=0",
        f"user-id={user_id}",
        "user-type=" + ("mod" if "moderator" in badges else ""),
    ]
    if "vip/1" in badges:
        tags.append("vip=1")
    if rng.random() < 0.02:
        text = f"\x01ACTION {text}\x01"
    prefix = f"{login}!{login}@{login}.tmi.twitch.tv"
    return f"@{';'.join(tags)} :{prefix} PRIVMSG #{channel} :{text}"


def _other(rng: random.Random, ts: int) -> str:
    channel, room_id = rng.choice(CHANNELS)
    login, display, user_id = _user(rng)
    roll = rng.random()
    if roll < 0.5:
        months = rng.randrange(2, 80)
        system = (
            f"{display}\\ssubscribed\\sat\\sTier\\s1.\\s"
            f"They've\\ssubscribed\\sfor\\s{months}\\smonths!"
        )
        text, emotes = _text(rng)
        return (
            f"@badge-info=subscriber/{months};badges=subscriber/{months // 3 * 3};color=#1E90FF;"
            f"display-name={display};emotes={emotes};flags=;id={_uuid(rng)};login={login};mod=0;"
            f"msg-id=resub;msg-param-cumulative-months={months};msg-param-months=0;"
            f"msg-param-multimonth-duration=0;msg-param-multimonth-tenure=0;"
            f"msg-param-should-share-streak=0;msg-param-sub-plan-name=Channel\\sSubscription\\s({channel});"
            f"msg-param-sub-plan=1000;msg-param-was-gifted=false;room-id={room_id};subscriber=1;"
            f"system-msg={system};tmi-sent-ts={ts};user-id={user_id};user-type= "
            f":tmi.twitch.tv USERNOTICE #{channel} :{text}"
        )
    if roll < 0.8:
        duration = f"ban-duration={rng.choice((1, 60, 600, 86400))};" if rng.random() < 0.9 else ""
        return (
            f"@{duration}room-id={room_id};target-user-id={user_id};tmi-sent-ts={ts} "
            f":tmi.twitch.tv CLEARCHAT #{channel} :{login}"
        )
    if roll < 0.9:
        return (
            f"@login={login};room-id=;target-msg-id={_uuid(rng)};tmi-sent-ts={ts} "
            f":tmi.twitch.tv CLEARMSG #{channel} :{_text(rng)[0]}"
        )
    return rng.choice(
        (
            f":{login}!{login}@{login}.tmi.twitch.tv JOIN #{channel}",
            f":{login}!{login}@{login}.tmi.twitch.tv PART #{channel}",
            "PING :tmi.twitch.tv",
            f"@emote-only=0;followers-only=-1;r9k=0;room-id={room_id};slow=0;subs-only=0 "
            f":tmi.twitch.tv ROOMSTATE #{channel}",
        )
    )


def generate(count: int, seed: int = 1) -> Iterator[str]:
    """`count` lines: about 96% PRIVMSG, the rest USERNOTICE, CLEARCHAT, CLEARMSG and others."""
    rng = random.Random(seed)
    ts = 1_732_406_400_000
    for _ in range(count):
        ts += rng.randrange(1, 40)
        yield _privmsg(rng, ts) if rng.random() < 0.96 else _other(rng, ts)


def main() -> None:
    """Write the lines to the given path, LF-terminated, UTF-8."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        for line in generate(args.count, args.seed):
            out.write(line + "\n")


if __name__ == "__main__":
    main()
