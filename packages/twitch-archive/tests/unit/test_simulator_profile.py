"""The traffic profile: it loads, is what learn.py derives, and holds no capture content."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import msgspec
import pytest

from twitch_archive.irc import parse_line
from twitch_archive.simulator import learn
from twitch_archive.simulator.profile import encode_profile, load_profile

CAPTURE = learn.DEFAULT_CAPTURE
needs_capture = pytest.mark.skipif(not CAPTURE.is_file(), reason=f"capture absent: {CAPTURE}")


def test_builtin_profile_loads_with_sane_shares() -> None:
    """The committed profile decodes and its shares are probabilities."""
    profile = load_profile()
    assert 0.01 < profile.moderation.clearchat_share < 0.015
    assert abs(sum(b.p for b in profile.messages.length_bins) - 1) < 1e-3
    assert abs(sum(profile.usernotices.kinds.values()) - 1) < 1e-3
    for share in (
        profile.messages.emote_share,
        profile.users.color_share,
        profile.modern.reply_share,
        profile.modern.client_nonce_share,
    ):
        assert 0 <= share <= 1


def test_profile_file_round_trips(tmp_path: Path) -> None:
    """A profile written by encode_profile loads back equal."""
    profile = load_profile()
    path = tmp_path / "p.json"
    path.write_bytes(encode_profile(profile))
    assert load_profile(path) == profile


def test_wrong_profile_version_is_rejected(tmp_path: Path) -> None:
    """A profile of another version is refused rather than misread."""
    profile = msgspec.structs.replace(load_profile(), version=99)
    path = tmp_path / "p.json"
    path.write_bytes(encode_profile(profile))
    with pytest.raises(msgspec.ValidationError, match="version"):
        load_profile(path)


@needs_capture
def test_committed_profile_is_what_learn_computes() -> None:
    """Regenerating the profile from the capture reproduces profile.json byte for byte."""
    data = CAPTURE.read_bytes()
    profile = learn.learn(learn.read_lines(CAPTURE), CAPTURE.name, hashlib.sha256(data).hexdigest())
    assert encode_profile(profile) == learn.DEFAULT_OUTPUT.read_bytes()


@needs_capture
def test_profile_holds_no_names_or_words_from_the_capture() -> None:
    """No login, display name or message word of the capture appears in profile.json."""
    text = learn.DEFAULT_OUTPUT.read_text()
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]{4,}", text))
    leaked: set[str] = set()
    for raw in learn.read_lines(CAPTURE):
        split = parse_line(raw)
        tags, params = split.tags, split.params
        candidates = {tags.get("display-name", ""), tags.get("login", "")}
        candidates.update(params[-1].split() if len(params) > 1 else ())
        leaked.update(word for word in candidates if word in words)
    # Twitch vocabulary (badge names, plans) may coincide with chat words; nothing else may.
    profile = load_profile()
    vocabulary = " ".join(
        [
            *profile.users.badges,
            *profile.usernotices.kinds,
            *(p.value for p in profile.usernotices.plans),
        ]
    )
    allowed = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]{4,}", vocabulary))
    assert leaked <= allowed, leaked - allowed
