"""Settings load from the environment, and every setting and metric is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from archive_writer.metrics import WriterMetrics
from archive_writer.settings import WriterSettings
from twitch_archive.errors import ConfigError
from twitch_archive.settings import load

ROOT = Path(__file__).resolve().parents[4]


def test_defaults_work_locally() -> None:
    """With no environment the writer targets the local servers and serves ops on 9102."""
    settings = load(WriterSettings, {})
    assert settings.database_url.startswith("postgresql://")
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert (settings.metrics_port, settings.nats_namespace) == (9102, "")
    assert settings.batch_max_age_ms <= 1000


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        pytest.param("BATCH_MAX_EVENTS", "0", "BATCH_MAX_EVENTS", id="batch:0-refused"),
        pytest.param("BATCH_MAX_AGE_MS", "nope", "BATCH_MAX_AGE_MS", id="age:not-a-number"),
        pytest.param("METRICS_PORT", "70000", "METRICS_PORT", id="port:out-of-range"),
        pytest.param("LOG_LEVEL", "loud", "LOG_LEVEL", id="log-level:unknown"),
    ],
)
def test_a_bad_variable_is_named(variable: str, value: str, message: str) -> None:
    """An invalid value stops start-up with the variable's name."""
    with pytest.raises(ConfigError, match=message):
        load(WriterSettings, {variable: value})


def test_strings_from_the_environment_are_converted() -> None:
    """Numbers arrive as strings and are read as numbers."""
    settings = load(WriterSettings, {"BATCH_MAX_EVENTS": "500", "ACK_WAIT_S": "2.5"})
    assert (settings.batch_max_events, settings.ack_wait_s) == (500, 2.5)


def test_every_metric_is_in_metrics_md() -> None:
    """docs/metrics.md lists each metric the writer registers, and no writer metric it lacks."""
    registry = CollectorRegistry()
    WriterMetrics(registry)
    exposed = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in registry.collect()
    }
    text = (ROOT / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"`(archive_writer_[a-z_]+)`", text))
    assert exposed == documented
