"""Realistic generated chat: per-channel streams of events drawn from the learned profile.

Every event is a real `twitch_archive.events` struct written as a raw line by
`irc.format.format_event` (plus the modern tags the contract does not keep, such as client-nonce),
so `irc.parse(line) == event`. A channel's stream depends only on the seed and the channel name.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect
from collections import deque
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, NamedTuple, TypeVar

import msgspec

from twitch_archive.events import Badge, ChatEvent, Emote, Message, ModAction, UserNotice
from twitch_archive.irc import format_event, parse
from twitch_archive.irc.tags import escape, format_badges
from twitch_archive.simulator.api import SendRequest
from twitch_archive.simulator.profile import LengthBin, Profile, Weighted, load_profile
from twitch_archive.simulator.words import (
    CHEER_PREFIX,
    DEFAULT_COLORS,
    EMOJI,
    EMOTES,
    NAME_ADJECTIVES,
    NAME_PARTS,
    WORDS,
)

T = TypeVar("T")

MAX_TEXT = 500
TEXT_POOL_SIZE = 4096
RECENT_MESSAGES = 200
MIN_POOL_USERS = 20
MAX_POOL_USERS = 2000
REGULARS = 1000
"""Size of the cross-channel user population (its low uids chat in the most channels)."""
DEFAULT_TIMEOUT_S = 600
CHANNEL_BADGES = frozenset({"subscriber", "moderator", "vip", "bits", "sub-gifter", "founder"})
_LOCAL_UID_BASE = 1 << 40
_LOGIN_UID_BASE = 1 << 41
_FOREVER = math.inf


class Generated(NamedTuple):
    """One generated event and the raw line that carries it."""

    event: ChatEvent
    line: str


def room_id(channel: str) -> str:
    """A stable numeric room id for a channel name (the same in every run and every seed)."""
    digest = hashlib.blake2b(channel.encode(), digest_size=5, person=b"room-id").digest()
    return str(10_000_000 + int.from_bytes(digest, "big") % 9_000_000_000)


def seeded(key: str | int | None) -> random.Random:
    """A pseudo-random generator for simulated data; a None key seeds it from the OS."""
    return random.Random(key)  # noqa: S311 - simulated chat, never secrets


def uuid_from(rng: random.Random) -> str:
    """A version-4 UUID string drawn from `rng` (deterministic for a seeded generator)."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Sampler(Generic[T]):
    """Draws values from a discrete distribution in O(log n)."""

    __slots__ = ("_cum", "_last", "_total", "_values")

    def __init__(self, values: Sequence[T], weights: Sequence[float]) -> None:
        if not values or len(values) != len(weights):
            raise ValueError("a sampler needs as many weights as values, at least one")
        self._values = list(values)
        self._cum = list(accumulate(weights))
        self._total = self._cum[-1]
        self._last = len(self._cum) - 1
        if not self._total > 0:
            raise ValueError("weights must add up to more than 0")

    def index(self, rng: random.Random) -> int:
        return min(bisect(self._cum, rng.random() * self._total), self._last)

    def pick(self, rng: random.Random) -> T:
        return self._values[self.index(rng)]


def _int_sampler(items: Sequence[Weighted]) -> Sampler[int]:
    return Sampler([int(item.value) for item in items], [item.weight for item in items])


def _bin_sampler(bins: Sequence[LengthBin]) -> Sampler[tuple[int, int]]:
    return Sampler([(b.lo, b.hi) for b in bins], [b.p for b in bins])


def zipf_weights(count: int, exponent: float) -> list[float]:
    """Weights 1/rank**exponent for ranks 1..count."""
    return [1.0 / (rank**exponent) for rank in range(1, count + 1)]


class ChatUser:
    """A Twitch account: stable id, login, looks, and the global badges it wears everywhere."""

    __slots__ = ("color", "display_name", "global_badges", "login", "new_display", "new_login",
                 "uid", "user_id")  # fmt: skip

    def __init__(
        self,
        uid: int,
        login: str,
        display_name: str,
        color: str | None,
        global_badges: tuple[Badge, ...],
        new_login: str | None,
    ) -> None:
        self.uid = uid
        self.user_id = str(100_000_000 + uid)
        self.login = login
        self.display_name = display_name
        self.color = color
        self.global_badges = global_badges
        self.new_login = new_login
        self.new_display = None if new_login is None else new_login.capitalize()


class Member:
    """A user as one channel sees them: channel badges, current login, mutes."""

    __slots__ = ("badge_info", "badges", "display_name", "login", "messages", "muted_until",
                 "rename_after", "user")  # fmt: skip

    def __init__(
        self,
        user: ChatUser,
        badges: tuple[Badge, ...],
        badge_info: tuple[Badge, ...],
        rename_after: int,
    ) -> None:
        self.user = user
        self.login = user.login
        self.display_name = user.display_name
        self.badges = badges
        self.badge_info = badge_info
        self.messages = 0
        self.muted_until = 0.0
        self.rename_after = rename_after


class _Recent(NamedTuple):
    message_id: str
    member: Member
    raw_text: str
    """The PRIVMSG trailing param (a /me stays wrapped), which CLEARMSG repeats."""
    root: tuple[str, str, str, str]
    """Thread root: (message id, login, display name, user id)."""


class TrafficGenerator:
    """Shared state of all channel streams: the profile, the seed, users and a text pool."""

    def __init__(self, profile: Profile | None = None, seed: int = 0) -> None:
        self.profile = profile if profile is not None else load_profile()
        self.seed = seed
        self._users: dict[int, ChatUser] = {}
        self._channels: dict[str, ChannelTraffic] = {}
        users = self.profile.users
        badge_names = list(users.badges)
        self._badge_order = {name: i for i, name in enumerate(users.badge_order)}
        self._global_badges = [(n, users.badges[n]) for n in badge_names if n not in CHANNEL_BADGES]
        self._channel_badges = [(n, users.badges[n]) for n in badge_names if n in CHANNEL_BADGES]
        self._badge_versions = {
            name: _int_sampler(items) for name, items in users.badge_versions.items() if items
        }
        tiers = users.badge_versions.get("subscriber", ())
        self._sub_tiers = sorted({int(item.value) for item in tiers} | {0})
        self._sub_months = (
            _bin_sampler(users.subscriber_months) if users.subscriber_months else None
        )
        messages = self.profile.messages
        self._lengths = _bin_sampler(messages.length_bins)
        self._emote_counts = _int_sampler(messages.emote_counts)
        self._bits = _int_sampler(messages.bits_amounts)
        self.text_pool = self._build_text_pool(seeded(f"{seed}:texts"))

    # ------------------------------------------------------------------ users

    def user(self, uid: int) -> ChatUser:
        """The user with this uid, the same for a seed wherever it chats."""
        user = self._users.get(uid)
        if user is None:
            user = self._make_user(uid, seeded(f"{self.seed}:user:{uid}"))
            self._users[uid] = user
        return user

    def user_for_login(self, login: str) -> ChatUser:
        """A user with exactly this login (for `/control/send`), stable for the login."""
        digest = hashlib.blake2b(login.encode(), digest_size=5, person=b"login").digest()
        uid = _LOGIN_UID_BASE + int.from_bytes(digest, "big")
        user = self._users.get(uid)
        if user is None or user.login != login:
            user = self._make_user(uid, seeded(f"{self.seed}:user:{uid}"), login=login)
            self._users[uid] = user
        return user

    def _make_user(self, uid: int, rng: random.Random, login: str | None = None) -> ChatUser:
        users = self.profile.users
        login = login or _login(rng)
        if rng.random() < users.lowercase_name_share:
            display = login
        elif rng.random() < users.localized_name_share:
            display = "".join(chr(0xAC00 + rng.randrange(11172)) for _ in range(rng.randint(2, 4)))
        else:
            display = "_".join(part.capitalize() for part in login.split("_"))
        color = None
        if rng.random() < users.color_share:
            color = (
                rng.choice(DEFAULT_COLORS) if rng.random() < 0.5 else f"#{rng.getrandbits(24):06X}"
            )
        badges = [
            Badge(name, str(self._version(name, rng)))
            for name, share in self._global_badges
            if rng.random() < share
        ]
        new_login = _login(rng) if rng.random() < users.rename_share else None
        return ChatUser(uid, login, display, color, tuple(badges), new_login)

    def _version(self, name: str, rng: random.Random) -> int:
        sampler = self._badge_versions.get(name)
        return sampler.pick(rng) if sampler is not None else 1

    def member(self, user: ChatUser, rng: random.Random) -> Member:
        """The user as a new channel sees them (channel badges drawn from `rng`)."""
        badges = list(user.global_badges)
        badge_info: tuple[Badge, ...] = ()
        for name, share in self._channel_badges:
            if rng.random() >= share:
                continue
            if name == "subscriber" and self._sub_months is not None:
                lo, hi = self._sub_months.pick(rng)
                months = rng.randint(lo, hi)
                tier = max(t for t in self._sub_tiers if t <= months)
                badges.append(Badge("subscriber", str(tier)))
                badge_info = (Badge("subscriber", str(months)),)
            else:
                badges.append(Badge(name, str(self._version(name, rng))))
        # Channel badges (moderator, subscriber, ...) lead, as on Twitch; then the learned order.
        badges.sort(key=lambda b: (b.name not in CHANNEL_BADGES, self._badge_order.get(b.name, 99)))
        rename_after = rng.randint(2, 30) if user.new_login is not None else -1
        return Member(user, tuple(badges), badge_info, rename_after)

    # ------------------------------------------------------------------ text

    def _build_text_pool(self, rng: random.Random) -> list[tuple[str, tuple[Emote, ...]]]:
        return [self.make_text(rng) for _ in range(TEXT_POOL_SIZE)]

    def make_text(self, rng: random.Random) -> tuple[str, tuple[Emote, ...]]:
        """A chat text and its emotes, shaped by the profile's lengths and shares."""
        messages = self.profile.messages
        roll = rng.random()
        tokens: list[str] = []
        emote_at: dict[int, str] = {}
        if roll < messages.emote_only_share:
            count = self._emote_count(rng)
            choices = [rng.choice(EMOTES) for _ in range(rng.choice((1, 1, 2)))]
            for i in range(count):
                code, emote_id = choices[i % len(choices)]
                emote_at[len(tokens)] = emote_id
                tokens.append(code)
        else:
            lo, hi = self._lengths.pick(rng)
            target = rng.randint(lo, hi)
            size = -1
            while size < target - 1:
                word = rng.choice(WORDS)
                tokens.append(word)
                size += len(word) + 1
            mixed = (messages.emote_share - messages.emote_only_share) / (
                1 - messages.emote_only_share
            )
            if rng.random() < mixed:
                for _ in range(self._emote_count(rng)):
                    code, emote_id = rng.choice(EMOTES)
                    position = rng.randint(0, len(tokens))
                    tokens.insert(position, code)
                    emote_at = {(i + 1 if i >= position else i): e for i, e in emote_at.items()}
                    emote_at[position] = emote_id
            if rng.random() < messages.emoji_share:
                position = rng.randint(0, len(tokens))
                tokens.insert(position, rng.choice(EMOJI))
                emote_at = {(i + 1 if i >= position else i): e for i, e in emote_at.items()}
        return _assemble(tokens, emote_at)

    def _emote_count(self, rng: random.Random) -> int:
        return self._emote_counts.pick(rng)

    def bits_amount(self, rng: random.Random) -> int:
        """A cheer amount, by the profile's weights."""
        return self._bits.pick(rng)

    # ------------------------------------------------------------------ channels

    def channel(self, name: str, rate: float = 1.0) -> ChannelTraffic:
        """The stream of a channel (created on first use; `rate` sizes its chatter pool)."""
        traffic = self._channels.get(name)
        if traffic is None:
            traffic = ChannelTraffic(self, name, rate)
            self._channels[name] = traffic
        return traffic

    def events(
        self, channel: str, count: int, start_ms: int, step_ms: int = 100
    ) -> list[Generated]:
        """`count` consecutive events of a channel, `step_ms` apart (tests and benchmarks)."""
        traffic = self.channel(channel)
        return [traffic.next(start_ms + i * step_ms) for i in range(count)]


def _login(rng: random.Random) -> str:
    shape = rng.random()
    first = rng.choice(NAME_ADJECTIVES) if shape < 0.5 else rng.choice(NAME_PARTS)
    second = rng.choice(NAME_PARTS)
    sep = "_" if rng.random() < 0.3 else ""
    digits = str(rng.randrange(10 ** rng.randint(1, 4))) if rng.random() < 0.55 else ""
    return f"{first}{sep}{second}{digits}"[:25]


def _assemble(tokens: list[str], emote_at: dict[int, str]) -> tuple[str, tuple[Emote, ...]]:
    """Join tokens with spaces (at most MAX_TEXT code points) and place emotes by code point."""
    groups: dict[str, list[Emote]] = {}
    offset = 0
    kept: list[str] = []
    for index, token in enumerate(tokens):
        end = offset + len(token)
        if end > MAX_TEXT:
            break
        emote_id = emote_at.get(index)
        if emote_id is not None:
            groups.setdefault(emote_id, []).append(Emote(emote_id, offset, end - 1))
        kept.append(token)
        offset = end + 1
    # Twitch groups the ranges of one emote together, in order of first appearance.
    emotes = tuple(emote for ranges in groups.values() for emote in ranges)
    return " ".join(kept) or "hi", emotes


def _shift(emotes: tuple[Emote, ...], by: int) -> tuple[Emote, ...]:
    return tuple(Emote(e.id, e.start + by, e.end + by) for e in emotes)


def with_tags(line: str, extra: Sequence[tuple[str, str]]) -> str:
    """`line` with more tags (values escaped here); existing keys are replaced, keys stay sorted."""
    if not extra:
        return line
    if not line.startswith("@"):
        head, rest = "", line
    else:
        space = line.index(" ")
        head, rest = line[1:space], line[space + 1 :]
    items = {item.partition("=")[0]: item for item in head.split(";") if item}
    for key, value in extra:
        items[key] = f"{key}={escape(value)}"
    return "@" + ";".join(items[key] for key in sorted(items)) + " " + rest


def _insert_tag(line: str, before: str, tag: str) -> str:
    """Insert `tag` (`key=value`) before the tag `before`, keeping alphabetical order cheaply."""
    anchor = f";{before}="
    if anchor in line:
        return line.replace(anchor, f";{tag}{anchor}", 1)
    key, _, value = tag.partition("=")
    return with_tags(line, [(key, value)])


class ChannelTraffic:
    """One channel's deterministic stream: messages, notices and moderation, line after line."""

    def __init__(self, generator: TrafficGenerator, channel: str, rate: float) -> None:
        self.generator = generator
        self.channel = channel
        self.room_id = room_id(channel)
        self._rng = seeded(f"{generator.seed}:channel:{channel}")
        profile = generator.profile
        self._profile = profile
        users = profile.users
        size = round(users.users_per_rate * max(rate, 0.0))
        self.pool_size = min(MAX_POOL_USERS, max(MIN_POOL_USERS, size))
        pool_rng = seeded(f"{generator.seed}:pool:{channel}")
        self._uids = [
            int(REGULARS * pool_rng.random() ** 3)
            if pool_rng.random() < users.cross_channel_share
            else _LOCAL_UID_BASE + pool_rng.getrandbits(39)
            for _ in range(self.pool_size)
        ]
        self._ranks = Sampler(
            range(self.pool_size), zipf_weights(self.pool_size, users.activity_zipf)
        )
        self._members: dict[int, Member] = {}
        self._by_login: dict[str, Member] = {}
        self._recent: deque[_Recent] = deque(maxlen=RECENT_MESSAGES)
        self._pending: deque[tuple[Member, int | None]] = deque()
        self._last_mod_ts = 0
        self.count = 0
        self._first_msgs = 0
        self._messages = 0
        mod = profile.moderation
        notices = profile.usernotices
        clear_pick = mod.clearchat_share / (1 + mod.repeat_share)
        shares = [notices.share, clear_pick, mod.delete_share, mod.clear_share]
        self._kind_cum = list(accumulate(shares))
        self._kinds = Sampler(list(notices.kinds), list(notices.kinds.values()))
        self._durations = _int_sampler(mod.timeout_durations)
        self._plans = Sampler([p.value for p in notices.plans], [p.weight for p in notices.plans])
        self._notice_months = (
            _bin_sampler(notices.cumulative_months) if notices.cumulative_months else None
        )
        self._partner_room = room_id(f"{channel}:partner")
        self._text_pool = generator.text_pool
        modern = profile.modern
        self._reply_share = modern.reply_share
        self._mention_cut = modern.reply_share + profile.messages.mention_share
        self._bits_share = profile.messages.bits_share
        self._action_share = profile.messages.action_share
        self._shared_share = modern.shared_chat_share
        self._nonce_share = modern.client_nonce_share
        self._returning_share = modern.returning_chatter_share
        self._first_share = modern.first_msg_share

    # ------------------------------------------------------------------ public

    def next(self, now_ms: int) -> Generated:
        """The next line of the stream, stamped `now_ms`."""
        self.count += 1
        if self._pending:
            member, duration = self._pending.popleft()
            return self._clearchat(now_ms, member, duration)
        roll = self._rng.random()
        cum = self._kind_cum
        if roll >= cum[-1]:
            return self._message(now_ms)
        if roll < cum[0]:
            return self._usernotice(now_ms)
        if roll < cum[1]:
            return self._moderate(now_ms)
        if roll < cum[2] and self._recent:
            return self._delete(now_ms, self._recent.pop())
        if roll >= cum[2]:
            return self._clearchat(now_ms, None, None)
        return self._message(now_ms)

    def make(self, request: SendRequest, now_ms: int) -> Generated:
        """One event as `/control/send` asks for it; unset fields come from the stream."""
        ts = request.ts if request.ts is not None else now_ms
        kind = request.kind
        member = self._member_for(request.user_login, request.user_id, request.display_name)
        if kind == "message":
            return self._message(ts, member=member, request=request)
        if kind == "usernotice":
            return self._usernotice(ts, member=member, request=request)
        if kind in ("ban", "timeout"):
            target = member or self._recent_member() or self._pick_member(ts)
            duration = None
            if kind == "timeout":
                duration = (
                    request.duration_s if request.duration_s is not None else DEFAULT_TIMEOUT_S
                )
            return self._clearchat(ts, target, duration)
        if kind == "clear":
            return self._clearchat(ts, None, None)
        return self._make_delete(ts, request, member)

    # ------------------------------------------------------------------ users

    def _member(self, uid: int) -> Member:
        member = self._members.get(uid)
        if member is None:
            user = self.generator.user(uid)
            rng = seeded(f"{self.generator.seed}:member:{self.channel}:{uid}")
            member = self.generator.member(user, rng)
            self._members[uid] = member
            self._by_login[member.login] = member
        return member

    def _pick_member(self, now_ms: float) -> Member:
        rng = self._rng
        member = self._member(self._uids[self._ranks.index(rng)])
        tries = 0
        while member.muted_until > now_ms and tries < 4:
            member = self._member(self._uids[self._ranks.index(rng)])
            tries += 1
        return member

    def _member_for(
        self, login: str | None, user_id: str | None, display_name: str | None
    ) -> Member | None:
        if login is None:
            return None
        login = login.lower()
        member = self._by_login.get(login)
        if member is None:
            user = self.generator.user_for_login(login)
            rng = seeded(f"{self.generator.seed}:member:{self.channel}:{user.uid}")
            member = self.generator.member(user, rng)
            self._by_login[login] = member
        if user_id is not None or display_name is not None:
            copy = Member(member.user, member.badges, member.badge_info, -1)
            copy.login = member.login
            copy.display_name = display_name or member.display_name
            if user_id is not None:
                user = ChatUser(
                    member.user.uid, member.login, copy.display_name, member.user.color,
                    member.user.global_badges, None,
                )  # fmt: skip
                user.user_id = user_id
                copy.user = user
            return copy
        return member

    def _recent_member(self) -> Member | None:
        return self._recent[-1].member if self._recent else None

    # ------------------------------------------------------------------ messages

    def _message(
        self, now_ms: int, member: Member | None = None, request: SendRequest | None = None
    ) -> Generated:
        rng = self._rng
        random_ = rng.random
        if member is None:
            member = self._pick_member(now_ms)
        if member.rename_after >= 0 and member.messages >= member.rename_after:
            self._rename(member)
        member.messages += 1
        self._messages += 1
        message_id = uuid_from(rng)
        parent: _Recent | None = None
        bits: int | None = None
        shared = False
        if request is None:
            text, emotes = self._text_pool[rng.randrange(TEXT_POOL_SIZE)]
            roll = random_()
            if roll < self._reply_share and self._recent:
                parent = self._reply_parent()
                mention = f"@{parent.member.display_name} "
                text, emotes = mention + text, _shift(emotes, len(mention))
            elif roll < self._mention_cut and self._recent:
                mention = f"@{rng.choice(self._recent).member.display_name} "
                text, emotes = mention + text, _shift(emotes, len(mention))
            if random_() < self._bits_share:
                bits = self.generator.bits_amount(rng)
                cheer = f"{CHEER_PREFIX}{bits} "
                text, emotes = cheer + text, _shift(emotes, len(cheer))
            is_action = random_() < self._action_share
            first_msg = member.messages == 1 and self._first_msg()
            shared = random_() < self._shared_share
        else:
            if request.text is not None:
                text, emotes = request.text, ()
            else:
                text, emotes = self._text_pool[rng.randrange(TEXT_POOL_SIZE)]
            if request.reply_parent_msg_id is not None:
                parent = self._find_recent(request.reply_parent_msg_id)
            bits = request.bits
            is_action = request.is_action
            first_msg = request.first_msg
        user = member.user
        event = Message(
            id=message_id,
            channel=self.channel,
            channel_id=self.room_id,
            ts=now_ms,
            message_id=message_id,
            user_id=user.user_id,
            user_login=member.login,
            display_name=member.display_name,
            text=text,
            is_action=is_action,
            badges=member.badges,
            badge_info=member.badge_info,
            emotes=emotes,
            color=user.color,
            bits=bits,
            first_msg=first_msg,
            reply_parent_msg_id=parent.message_id
            if parent is not None
            else (request.reply_parent_msg_id if request is not None else None),
            reply_parent_user_login=parent.member.login if parent is not None else None,
            source_channel_id=self._partner_room if shared else None,
        )
        line = format_event(event)
        if random_() < self._nonce_share:
            line = _insert_tag(line, "color", f"client-nonce={rng.getrandbits(128):032x}")
        if emotes and text.count(" ") + 1 == len(emotes):
            line = _insert_tag(line, "emotes", "emote-only=1")
        if random_() < self._returning_share:
            line = line.replace(";returning-chatter=0;", ";returning-chatter=1;", 1)
        if parent is not None or shared:
            extra = self._reply_tags(parent) if parent is not None else []
            if shared:
                extra += [
                    ("source-badge-info", format_badges(member.badge_info)),
                    ("source-badges", format_badges(member.badges)),
                    ("source-id", uuid_from(rng)),
                    ("source-only", "0"),
                ]
            line = with_tags(line, extra)
        raw_text = f"\x01ACTION {text}\x01" if is_action else text
        root = (
            parent.root
            if parent is not None
            else (message_id, member.login, member.display_name, user.user_id)
        )
        self._recent.append(_Recent(message_id, member, raw_text, root))
        return Generated(event, line)

    def _rename(self, member: Member) -> None:
        new_login = member.user.new_login
        assert new_login is not None
        assert member.user.new_display is not None
        member.login, member.display_name = new_login, member.user.new_display
        member.rename_after = -1
        self._by_login[new_login] = member

    def _first_msg(self) -> bool:
        # Steer toward the profile's share: only a chatter's first message here can qualify.
        if self._first_msgs < self._first_share * self._messages:
            self._first_msgs += 1
            return True
        return False

    def _reply_parent(self) -> _Recent:
        rng = self._rng
        if rng.random() < self._profile.modern.thread_reply_share:
            replies = [r for r in self._recent if r.root[0] != r.message_id]
            if replies:
                return rng.choice(replies)
        return rng.choice(self._recent)

    def _find_recent(self, message_id: str) -> _Recent | None:
        for recent in reversed(self._recent):
            if recent.message_id == message_id:
                return recent
        return None

    @staticmethod
    def _reply_tags(parent: _Recent) -> list[tuple[str, str]]:
        root_id, root_login, root_display, root_user_id = parent.root
        return [
            ("reply-parent-display-name", parent.member.display_name),
            ("reply-parent-msg-body", parent.raw_text),
            ("reply-parent-user-id", parent.member.user.user_id),
            ("reply-thread-parent-display-name", root_display),
            ("reply-thread-parent-msg-id", root_id),
            ("reply-thread-parent-user-id", root_user_id),
            ("reply-thread-parent-user-login", root_login),
        ]

    # ------------------------------------------------------------------ usernotices

    def _usernotice(
        self, now_ms: int, member: Member | None = None, request: SendRequest | None = None
    ) -> Generated:
        rng = self._rng
        if member is None:
            member = self._pick_member(now_ms)
        kind = request.notice_type if request is not None else self._kinds.pick(rng)
        params, system_msg, has_text = self._notice_shape(kind, member)
        if request is not None:
            params = request.params if request.params is not None else params
            system_msg = request.system_msg if request.system_msg is not None else system_msg
            text = request.text
        else:
            text = self.generator.text_pool[rng.randrange(TEXT_POOL_SIZE)][0] if has_text else None
        message_id = uuid_from(rng)
        event = UserNotice(
            id=message_id,
            channel=self.channel,
            channel_id=self.room_id,
            ts=now_ms,
            notice_type=kind,
            message_id=message_id,
            user_id=member.user.user_id,
            user_login=member.login,
            display_name=member.display_name,
            text=text,
            system_msg=system_msg,
            params=params,
        )
        names = {badge.name for badge in member.badges}
        line = with_tags(
            format_event(event),
            [
                ("badge-info", format_badges(member.badge_info)),
                ("badges", format_badges(member.badges)),
                ("color", member.user.color or ""),
                ("emotes", ""),
                ("flags", ""),
                ("mod", "1" if "moderator" in names else "0"),
                ("subscriber", "1" if "subscriber" in names else "0"),
                ("user-type", "mod" if "moderator" in names else ""),
            ],
        )
        return Generated(event, line)

    def _notice_shape(self, kind: str, member: Member) -> tuple[dict[str, str], str, bool]:
        """(params, system-msg, whether a user text may follow) for a notice kind."""
        rng = self._rng
        notices = self._profile.usernotices
        name = member.display_name
        plan = self._plans.pick(rng) if kind != "primepaidupgrade" else "1000"
        tier = "Prime" if plan == "Prime" else f"Tier {plan[0]}"
        plan_name = f"Channel Subscription ({self.channel})"
        with_text = rng.random() < notices.text_share
        if kind in ("sub", "resub"):
            months = 1
            if kind == "resub" and self._notice_months is not None:
                lo, hi = self._notice_months.pick(rng)
                months = max(2, rng.randint(lo, hi))
            streak = kind == "resub" and rng.random() < notices.streak_share
            params = {
                "cumulative-months": str(months),
                "months": "0",
                "multimonth-duration": "1",
                "multimonth-tenure": "0",
                "should-share-streak": "1" if streak else "0",
                "sub-plan-name": plan_name,
                "sub-plan": plan,
                "was-gifted": "false",
            }
            how = "with Prime" if plan == "Prime" else f"at {tier}"
            system = f"{name} subscribed {how}."
            if kind == "resub":
                system += f" They've subscribed for {months} months"
                if streak:
                    params["streak-months"] = str(rng.randint(1, months))
                    system += f", currently on a {params['streak-months']} month streak"
                system += "!"
            return params, system, with_text
        if kind == "subgift":
            recipient = self._pick_member(0)
            return (
                {
                    "gift-months": "1",
                    "months": str(rng.randint(1, 24)),
                    "origin-id": f"{rng.getrandbits(160):040x}",
                    "recipient-display-name": recipient.display_name,
                    "recipient-id": recipient.user.user_id,
                    "recipient-user-name": recipient.login,
                    "sender-count": str(rng.randint(0, 50)),
                    "sub-plan-name": plan_name,
                    "sub-plan": "1000" if plan == "Prime" else plan,
                },
                f"{name} gifted a Tier 1 sub to {recipient.display_name}!",
                False,
            )
        if kind == "submysterygift":
            count = rng.choice((1, 5, 5, 10, 20, 50))
            total = count + rng.randint(0, 200)
            return (
                {
                    "mass-gift-count": str(count),
                    "origin-id": f"{rng.getrandbits(160):040x}",
                    "sender-count": str(total),
                    "sub-plan": "1000",
                },
                f"{name} is gifting {count} Tier 1 Subs to {self.channel}'s community! "
                f"They've gifted a total of {total} in the channel!",
                False,
            )
        if kind == "raid":
            viewers = rng.randint(2, 5000)
            return (
                {
                    "displayName": name,
                    "login": member.login,
                    "profileImageURL": "https://static-cdn.jtvnw.net/jtv_user_pictures/"
                    f"{rng.getrandbits(128):032x}-profile_image-70x70.png",
                    "viewerCount": str(viewers),
                },
                f"{viewers} raiders from {name} have joined!",
                False,
            )
        if kind == "announcement":
            color = rng.choice(("PRIMARY", "BLUE", "GREEN", "ORANGE", "PURPLE"))
            return {"color": color}, "", True
        if kind == "viewermilestone":
            value = rng.choice((3, 5, 10, 15, 20))
            return (
                {
                    "category": "watch-streak",
                    "copoReward": "350",
                    "id": uuid_from(rng),
                    "value": str(value),
                },
                f"{name} watched {value} consecutive streams and sparked a watch streak!",
                with_text,
            )
        if kind == "giftpaidupgrade":
            sender = self._pick_member(0)
            return (
                {"sender-login": sender.login, "sender-name": sender.display_name},
                f"{name} is continuing the Gift Sub they got from {sender.display_name}!",
                False,
            )
        if kind == "primepaidupgrade":
            return (
                {"sub-plan": "1000"},
                f"{name} converted from a Prime sub to a Tier 1 sub!",
                False,
            )
        if kind == "bitsbadgetier":
            return (
                {"threshold": str(rng.choice((1000, 5000, 10000)))},
                "bits badge tier notification",
                True,
            )
        if kind == "ritual":
            return (
                {"ritual-name": "new_chatter"},
                f"@{name} is new to {self.channel}'s chat! Say hello!",
                True,
            )
        return {}, f"{name} did a {kind}.", with_text

    # ------------------------------------------------------------------ moderation

    def _moderate(self, now_ms: int) -> Generated:
        rng = self._rng
        mod = self._profile.moderation
        target = (
            rng.choice(self._recent).member
            if self._recent and rng.random() < mod.recent_target_share
            else self._pick_member(now_ms)
        )
        duration = None
        if rng.random() >= mod.ban_share:
            duration = self._durations.pick(rng)
        if rng.random() < mod.repeat_share:
            self._pending.append((target, duration))
        return self._clearchat(now_ms, target, duration)

    def _clearchat(self, now_ms: int, target: Member | None, duration: int | None) -> Generated:
        if target is None:
            draft = ModAction(
                id="", channel=self.channel, channel_id=self.room_id, ts=now_ms, action="clear"
            )
        else:
            target.muted_until = _FOREVER if duration is None else now_ms + duration * 1000
            draft = ModAction(
                id="",
                channel=self.channel,
                channel_id=self.room_id,
                ts=now_ms,
                action="ban" if duration is None else "timeout",
                target_user_id=target.user.user_id,
                target_user_login=target.login,
                duration_s=duration,
            )
        return self._canonical(draft)

    def _delete(self, now_ms: int, recent: _Recent) -> Generated:
        draft = ModAction(
            id="",
            channel=self.channel,
            channel_id=self.room_id,
            ts=now_ms,
            action="delete",
            target_user_login=recent.member.login,
            target_message_id=recent.message_id,
            message_text=recent.raw_text,
        )
        return self._canonical(draft)

    def _make_delete(self, ts: int, request: SendRequest, member: Member | None) -> Generated:
        target_id = request.target_message_id
        recent = self._find_recent(target_id) if target_id is not None else None
        if target_id is None and self._recent:
            recent = self._recent[-1]
        if recent is not None:
            self._recent.remove(recent)
            return self._delete(ts, recent)
        if target_id is None:
            raise ValueError("no message to delete: give target_message_id")
        draft = ModAction(
            id="",
            channel=self.channel,
            channel_id=self.room_id,
            ts=ts,
            action="delete",
            target_user_login=member.login if member is not None else None,
            target_message_id=target_id,
            message_text=request.text,
        )
        return self._canonical(draft)

    def _canonical(self, draft: ModAction) -> Generated:
        # Mod action ids are derived from their fields, the timestamp included: keep each one's
        # ts distinct (a repeated timeout must stay a second event), and let the grammar
        # compute the id by parsing the line back.
        ts = max(draft.ts, self._last_mod_ts + 1)
        self._last_mod_ts = ts
        if ts != draft.ts:
            draft = msgspec.structs.replace(draft, ts=ts)
        line = format_event(draft)
        event = parse(line)
        assert event is not None
        return Generated(event, line)
