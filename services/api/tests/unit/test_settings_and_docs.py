"""Settings load from the environment, and every setting, metric and endpoint is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from archive_api.app import create_app
from archive_api.metrics import ApiMetrics
from archive_api.settings import ApiSettings
from twitch_archive.errors import ConfigError
from twitch_archive.settings import Secret, load

ROOT = Path(__file__).resolve().parents[4]


def section(path: Path, title: str) -> str:
    """The text of `## title` up to the next `## ` heading."""
    text = path.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_defaults_work_locally():
    """With no environment the api serves on 127.0.0.1:8000 with the seed's rate limit."""
    settings = load(ApiSettings, {})
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert settings.rate_limit_per_minute == 100
    assert settings.admin_token is None
    assert settings.redis_prefix == "archive:"


def test_environment_strings_are_converted_and_secrets_masked():
    """Numbers, lists and the admin token are read from strings; the token never prints."""
    settings = load(
        ApiSettings,
        {"API_PORT": "9000", "CORS_ORIGINS": "http://a, http://b", "ADMIN_TOKEN": "hunter2"},
    )
    assert settings.api_port == 9000
    assert tuple(settings.cors_origins) == ("http://a", "http://b")
    assert settings.admin_token == Secret("hunter2")
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("API_PORT", "70000", id="port:out-of-range"),
        pytest.param("RATE_LIMIT_PER_MINUTE", "-1", id="rate:negative"),
        pytest.param("TOTAL_COUNT_CAP", "many", id="cap:not-a-number"),
        pytest.param("LOG_LEVEL", "loud", id="log-level:unknown"),
    ],
)
def test_a_bad_variable_is_named(variable, value):
    """An invalid value stops start-up with the variable's name."""
    with pytest.raises(ConfigError, match=variable):
        load(ApiSettings, {variable: value})


def test_every_setting_is_in_configuration_md():
    """docs/configuration.md's api table lists every setting, and nothing else."""
    text = section(ROOT / "docs" / "configuration.md", "api")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.MULTILINE))
    fields = {name.upper() for name in ApiSettings.__struct_fields__}
    assert documented == fields


def test_every_metric_is_in_metrics_md():
    """docs/metrics.md's api section lists each metric the api registers."""
    registry = CollectorRegistry()
    ApiMetrics(registry)
    exposed = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in registry.collect()
    }
    documented = set(
        re.findall(r"`(archive_api_[a-z_]+)`", (ROOT / "docs" / "metrics.md").read_text())
    )
    assert exposed == documented


def test_every_endpoint_is_in_api_md():
    """docs/api.md describes every path of the OpenAPI schema."""
    schema = create_app(ApiSettings(), registry=CollectorRegistry()).openapi_schema.to_schema()
    text = (ROOT / "docs" / "api.md").read_text()
    for path in schema["paths"]:
        documented = path.replace("{message_id}", "{id}")
        assert documented in text, path
