"""Simulator settings, CLI option precedence, and the server's pure helpers."""

from __future__ import annotations

import argparse

import pytest

from twitch_archive.errors import ConfigError
from twitch_archive.settings import load
from twitch_archive.simulator.cli import HELP, add_arguments, settings_from
from twitch_archive.simulator.server import JoinLimiter, downgrade, restamp, split_client_line
from twitch_archive.simulator.settings import SimulatorSettings, parse_speed


def test_environment_names_are_prefixed() -> None:
    """Every field reads SIMULATOR_<NAME>, and values are converted from strings."""
    settings = load(
        SimulatorSettings,
        {
            "SIMULATOR_PORT": "7000",
            "SIMULATOR_CHANNELS": "#Forsen, xqc,,xqc",
            "SIMULATOR_RATE": "2.5",
            "SIMULATOR_OAUTH_TOKENS": "oauth:abc, def",
            "PORT": "1",
        },
    )
    assert settings.port == 7000
    assert settings.traffic_channels() == ("forsen", "xqc")
    assert settings.rate == 2.5
    assert settings.valid_tokens() == frozenset({"abc", "def"})
    assert "abc" not in repr(settings)


def test_invalid_values_name_the_variable() -> None:
    """A bad value raises ConfigError naming SIMULATOR_*."""
    with pytest.raises(ConfigError, match="SIMULATOR_JOIN_LIMIT"):
        load(SimulatorSettings, {"SIMULATOR_JOIN_LIMIT": "0"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1", 1.0, id="own-pace"),
        pytest.param("10", 10.0, id="ten-times"),
        pytest.param("max", None, id="max"),
        pytest.param(0.5, 0.5, id="half"),
    ],
)
def test_parse_speed(value: str | float, expected: float | None) -> None:
    """Speeds are positive factors, or max for no pacing."""
    assert parse_speed(value) == expected


def test_parse_speed_rejects_nonsense() -> None:
    """Negative or non-numeric speeds are errors."""
    for value in ("fast", "-2"):
        with pytest.raises(ValueError, match="speed"):
            parse_speed(value)


def test_cli_options_override_the_environment() -> None:
    """Given options win over SIMULATOR_* variables; absent ones keep the environment's value."""
    parser = argparse.ArgumentParser(description=HELP)
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--channels",
            "a,b",
            "--silent-join-limit",
            "--no-record",
            "--stamp-on-write",
        ]
    )
    settings = settings_from(args, {"SIMULATOR_PORT": "7000", "SIMULATOR_RATE": "3"})
    assert settings.stamp_on_write is True
    assert settings.port == 0
    assert settings.traffic_channels() == ("a", "b")
    assert settings.rate == 3
    assert settings.join_limit_notice is False
    assert settings.record_sent is False


def test_cli_rejects_a_bad_speed() -> None:
    """An unreadable --speed is a configuration error."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(ConfigError, match="SIMULATOR_SPEED"):
        settings_from(parser.parse_args(["--speed", "fast"]), {})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("JOIN #a,#b", ("JOIN", ["#a,#b"]), id="join"),
        pytest.param(
            "cap req :twitch.tv/tags twitch.tv/commands",
            ("CAP", ["req", "twitch.tv/tags twitch.tv/commands"]),
            id="cap",
        ),
        pytest.param("PING", ("PING", []), id="bare-ping"),
        pytest.param("PASS  oauth:x ", ("PASS", ["oauth:x"]), id="sloppy-spaces"),
        pytest.param(
            "@a=1 :me!me@me PRIVMSG #c :hi there", ("PRIVMSG", ["#c", "hi there"]), id="tags-prefix"
        ),
        pytest.param("", ("", []), id="empty"),
    ],
)
def test_split_client_line(line: str, expected: tuple[str, list[str]]) -> None:
    """Client lines are split leniently into command and params."""
    assert split_client_line(line) == expected


def test_downgrade_for_clients_without_capabilities() -> None:
    """Without tags the tag section goes; without commands Twitch-only commands are not sent."""
    line = "@room-id=1 :tmi.twitch.tv CLEARCHAT #c :x"
    assert downgrade(line, tags=True, commands=False) is None
    assert (
        downgrade("@id=1 :a!a@a PRIVMSG #c :hi", tags=False, commands=False)
        == ":a!a@a PRIVMSG #c :hi"
    )
    assert downgrade(line, tags=True, commands=True) == line


def test_join_limiter_uses_a_sliding_window() -> None:
    """At most `limit` joins are accepted in any window; refused ones do not count."""
    limiter = JoinLimiter(2, 10.0)
    assert [limiter.allow("a", t) for t in (0.0, 1.0, 2.0, 9.0)] == [True, True, False, False]
    assert limiter.allow("b", 2.0)
    assert limiter.allow("a", 10.5)
    assert not limiter.allow("a", 10.6)
    assert limiter.allow("a", 11.5)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            "@id=x;tmi-sent-ts=5;user-id=1 :a!a@a PRIVMSG #c :hi",
            "@id=x;tmi-sent-ts=99;user-id=1 :a!a@a PRIVMSG #c :hi",
            id="middle-tag",
        ),
        pytest.param(
            "@tmi-sent-ts=5 :a!a@a PRIVMSG #c :tmi-sent-ts=7",
            "@tmi-sent-ts=99 :a!a@a PRIVMSG #c :tmi-sent-ts=7",
            id="last-tag-text-untouched",
        ),
        pytest.param(
            "@x-tmi-sent-ts=5;tmi-sent-ts=6 :a PRIVMSG #c :hi",
            "@x-tmi-sent-ts=5;tmi-sent-ts=99 :a PRIVMSG #c :hi",
            id="longer-key-skipped",
        ),
        pytest.param(
            ":a!a@a PRIVMSG #c :tmi-sent-ts=5", ":a!a@a PRIVMSG #c :tmi-sent-ts=5", id="no-tags"
        ),
        pytest.param("@id=x :a PRIVMSG #c :hi", "@id=x :a PRIVMSG #c :hi", id="no-stamp"),
    ],
)
def test_restamp_replaces_only_the_tag(line: str, expected: str) -> None:
    """restamp rewrites the tmi-sent-ts tag's value and nothing else of the line."""
    assert restamp(line, "tmi-sent-ts=99") == expected
