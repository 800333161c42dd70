"""Settings load from the environment, and every setting and metric is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from archive_ingestor.metrics import IngestorMetrics
from archive_ingestor.settings import IngestorSettings
from twitch_archive.errors import ConfigError
from twitch_archive.settings import Secret, load

ROOT = Path(__file__).resolve().parents[4]


def test_defaults_are_twitchs_limits() -> None:
    """With no environment the ingestor targets Twitch anonymously within its published limits."""
    settings = load(IngestorSettings, {})
    assert settings.twitch_irc_url == "wss://irc-ws.chat.twitch.tv:443"
    assert settings.twitch_username is None
    assert (settings.joins_per_window, settings.join_window_s) == (20, 10.0)
    assert settings.channels_per_connection == 90
    assert (settings.metrics_port, settings.replication) == (9101, 1)
    assert re.fullmatch(r"[A-Za-z0-9_-]+-\d+", settings.ingestor_id)


def test_channels_and_secrets_are_read() -> None:
    """CHANNELS is a comma list and the token is a Secret that never shows in a repr."""
    settings = load(
        IngestorSettings,
        {"CHANNELS": "a, #B ,c", "TWITCH_USERNAME": "bot", "TWITCH_OAUTH_TOKEN": "oauth:xyz"},
    )
    assert settings.channels == ("a", "#B", "c")
    assert settings.twitch_oauth_token == Secret("oauth:xyz")
    assert "xyz" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({"REPLICATION": "0"}, "REPLICATION", id="replication:0-refused"),
        pytest.param({"JOIN_WINDOW_S": "0"}, "JOIN_WINDOW_S", id="window:0-refused"),
        pytest.param({"METRICS_PORT": "70000"}, "METRICS_PORT", id="port:out-of-range"),
        pytest.param({"TWITCH_USERNAME": "bot"}, "TWITCH_OAUTH_TOKEN", id="username:without-token"),
        pytest.param({"CHANNELS": "good,bad.name"}, "invalid channel", id="channels:impossible"),
        pytest.param({"INGESTOR_ID": "a b"}, "INGESTOR_ID", id="id:space"),
        pytest.param(
            {"BACKOFF_MIN_S": "5", "BACKOFF_MAX_S": "1"}, "BACKOFF_MAX_S", id="backoff:inverted"
        ),
    ],
)
def test_a_bad_variable_is_named(env: dict[str, str], message: str) -> None:
    """An invalid value stops start-up with a message naming what is wrong."""
    with pytest.raises(ConfigError, match=message):
        load(IngestorSettings, env)


def section(path: Path, title: str) -> str:
    text = path.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def test_every_setting_is_in_configuration_md() -> None:
    """docs/configuration.md's ingestor section lists exactly the variables the ingestor reads."""
    fields = {name.upper() for name in IngestorSettings.__struct_fields__}
    text = section(ROOT / "docs" / "configuration.md", "ingestor")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.MULTILINE))
    assert documented == fields


def test_every_metric_is_in_metrics_md() -> None:
    """docs/metrics.md lists each metric the ingestor registers, and no ingestor metric it lacks."""
    registry = CollectorRegistry()
    IngestorMetrics(registry)
    exposed = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in registry.collect()
    }
    text = (ROOT / "docs" / "metrics.md").read_text()
    assert exposed == set(re.findall(r"`(archive_ingestor_[a-z_]+)`", text))
