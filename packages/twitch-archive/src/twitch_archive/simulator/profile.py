"""The statistical profile behind generated chat: derived numbers only, never capture content.

`profile.json` is written by `python -m twitch_archive.simulator.learn` from a real capture; the
`modern` section holds assumed shares of features the 2019 capture predates.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import msgspec

PROFILE_VERSION = 1


class LengthBin(msgspec.Struct, frozen=True, array_like=True):
    """Message lengths in [lo, hi] code points (inclusive) occur with probability `p`."""

    lo: int
    hi: int
    p: float


class Weighted(msgspec.Struct, frozen=True, array_like=True):
    """One value of a discrete distribution and its weight."""

    value: str
    weight: float


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """The capture a profile was learned from (its name and hash, never its content)."""

    name: str
    sha256: str
    lines: int
    duration_s: float
    lines_per_s: float


class MessageProfile(msgspec.Struct, frozen=True, kw_only=True):
    """PRIVMSG shapes."""

    length_bins: tuple[LengthBin, ...]
    """Text length in Unicode code points."""
    emote_share: float
    """Share of messages with at least one emote."""
    emote_counts: tuple[Weighted, ...]
    """Emote count of a message that has emotes."""
    emote_only_share: float
    """Share of messages made of emotes only."""
    mention_share: float
    """Share of messages starting with an @mention."""
    emoji_share: float
    """Share of messages with a character outside the Basic Multilingual Plane."""
    action_share: float
    bits_share: float
    bits_amounts: tuple[Weighted, ...]


class UserProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Who chats, how often, and what they wear."""

    users_per_rate: float
    """Distinct chatters seen per (message per second) of channel rate over the capture window."""
    activity_zipf: float
    """Exponent of the rank-frequency (Zipf) law of messages per chatter."""
    color_share: float
    """Share of chatters with a chosen name color."""
    localized_name_share: float
    """Share of chatters whose display name is not a case variant of their login."""
    lowercase_name_share: float
    """Share of chatters whose display name equals their login exactly."""
    badges: dict[str, float]
    """Share of chatters wearing each badge."""
    badge_versions: dict[str, tuple[Weighted, ...]]
    """Versions of each badge, by weight."""
    badge_order: tuple[str, ...]
    """The order badges appear in the tag (most to least prominent)."""
    subscriber_months: tuple[LengthBin, ...]
    """badge-info subscriber months of subscribers (bins with probabilities)."""
    cross_channel_share: float
    """Assumed: share of a channel's chatters that also chat elsewhere."""
    rename_share: float
    """Assumed: share of chatters who rename (same user id, new login) while the simulator runs."""


class UserNoticeProfile(msgspec.Struct, frozen=True, kw_only=True):
    """USERNOTICE kinds and shapes."""

    share: float
    """USERNOTICE lines per line."""
    kinds_observed: dict[str, float]
    kinds: dict[str, float]
    """Kinds the generator uses: observed sub/resub ratio, plus assumed modern kinds."""
    text_share: float
    """Share of sub/resub notices carrying the user's own message."""
    plans: tuple[Weighted, ...]
    cumulative_months: tuple[LengthBin, ...]
    streak_share: float


class ModerationProfile(msgspec.Struct, frozen=True, kw_only=True):
    """CLEARCHAT and CLEARMSG."""

    clearchat_share: float
    """CLEARCHAT lines (bans and timeouts, repeats included) per line."""
    ban_share: float
    """Share of CLEARCHATs that are permanent bans."""
    timeout_durations: tuple[Weighted, ...]
    """Timeout lengths in seconds, by weight."""
    repeat_share: float
    """Share of bans/timeouts sent twice in a row (two moderators or bots acting at once)."""
    repeat_delay_ms: int
    """Typical gap between the two lines of a repeated action."""
    recent_target_share: float
    """Share of targets who chatted in the preceding lines of the capture."""
    delete_share: float
    """Assumed: CLEARMSG lines per line."""
    clear_share: float
    """Assumed: whole-chat clears per line."""


class ModernProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Assumed shares of tags newer than the capture."""

    reply_share: float
    thread_reply_share: float
    """Share of replies answering a reply (their thread parent differs from the parent)."""
    first_msg_share: float
    returning_chatter_share: float
    client_nonce_share: float
    shared_chat_share: float


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """The whole profile (see docs/simulator.md)."""

    version: int
    source: Source
    messages: MessageProfile
    users: UserProfile
    usernotices: UserNoticeProfile
    moderation: ModerationProfile
    modern: ModernProfile


def load_profile(path: str | Path | None = None) -> Profile:
    """The profile at `path`, or the built-in `profile.json`; raises msgspec.ValidationError."""
    if path is None:
        data = resources.files("twitch_archive.simulator").joinpath("profile.json").read_bytes()
    else:
        data = Path(path).read_bytes()
    profile = msgspec.json.decode(data, type=Profile)
    if profile.version != PROFILE_VERSION:
        raise msgspec.ValidationError(f"profile version {profile.version} is not {PROFILE_VERSION}")
    return profile


_SCALAR_ARRAY = re.compile(rb"\[\s+([^\[\]{}]*?)\s+\]")


def encode_profile(profile: Profile) -> bytes:
    """Pretty JSON for `profile.json`: indented objects, arrays of scalars kept on one line."""
    pretty = msgspec.json.format(msgspec.json.encode(profile), indent=2)
    compact = _SCALAR_ARRAY.sub(lambda m: b"[" + re.sub(rb",\s+", b", ", m.group(1)) + b"]", pretty)
    return compact + b"\n"
