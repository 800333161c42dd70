"""Settings load from the environment, origins are checked, and every metric is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from archive_live_gateway.app import create_app, hard_frame_limit, origin_allowed
from archive_live_gateway.metrics import GatewayMetrics
from archive_live_gateway.settings import GatewaySettings
from twitch_archive.errors import ConfigError
from twitch_archive.settings import load

ROOT = Path(__file__).resolve().parents[4]


def test_defaults_work_locally() -> None:
    """With no environment the gateway listens on 127.0.0.1:8001, firehose off, any origin."""
    settings = load(GatewaySettings, {})
    assert (settings.gateway_host, settings.gateway_port) == ("127.0.0.1", 8001)
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.allow_firehose is False
    assert settings.allowed_origins == ()


def test_variables_are_converted() -> None:
    """Lists, booleans and numbers arrive as strings and are read as such."""
    settings = load(
        GatewaySettings,
        {
            "ALLOWED_ORIGINS": "https://a.example, http://localhost:5173",
            "ALLOW_FIREHOSE": "true",
            "CLIENT_FRAMES_PER_SECOND": "2.5",
            "SEND_QUEUE_MAX": "64",
        },
    )
    assert settings.allowed_origins == ("https://a.example", "http://localhost:5173")
    assert (settings.allow_firehose, settings.client_frames_per_second) == (True, 2.5)
    assert settings.send_queue_max == 64


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("GATEWAY_PORT", "70000", id="port:out-of-range"),
        pytest.param("SEND_QUEUE_MAX", "0", id="queue:0"),
        pytest.param("SEND_BUFFER_BYTES", "4096", id="sndbuf:below-a-segment"),
        pytest.param("CLIENT_FRAMES_PER_SECOND", "0", id="rate:0"),
        pytest.param("ALLOW_FIREHOSE", "maybe", id="firehose:not-a-bool"),
        pytest.param("LOG_LEVEL", "loud", id="log-level:unknown"),
    ],
)
def test_a_bad_variable_is_named(variable: str, value: str) -> None:
    """An invalid value stops start-up with the variable's name."""
    with pytest.raises(ConfigError, match=variable):
        load(GatewaySettings, {variable: value})


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        pytest.param("https://evil.example", (), True, id="empty-list:any"),
        pytest.param("https://evil.example", ("*",), True, id="star:any"),
        pytest.param(None, ("https://a.example",), True, id="no-origin-header"),
        pytest.param("https://a.example", ("https://a.example",), True, id="listed"),
        pytest.param("https://A.example/", ("https://a.example",), True, id="case-and-slash"),
        pytest.param("http://a.example", ("https://a.example",), False, id="other-scheme"),
        pytest.param("https://a.example:8443", ("https://a.example",), False, id="other-port"),
    ],
)
def test_origin_allowed(origin: str | None, allowed: tuple[str, ...], expected: bool) -> None:
    """Only listed origins pass once a list is set; the comparison ignores case and a '/'."""
    assert origin_allowed(origin, allowed) is expected


def test_frames_are_buffered_up_to_a_hard_limit() -> None:
    """Frames up to 4 x MAX_FRAME_BYTES (at least 64 KiB) are read, then refused politely."""
    assert hard_frame_limit(GatewaySettings(max_frame_bytes=1024)) == 65536
    assert hard_frame_limit(GatewaySettings(max_frame_bytes=65536)) == 262144


def test_create_app_does_no_io() -> None:
    """Building the app opens no connection: NATS is connected when it starts."""
    app = create_app(GatewaySettings(nats_url="nats://127.0.0.1:1"))
    assert {route.resource.canonical for route in app.router.routes() if route.resource} >= {
        "/api/live", "/healthz", "/readyz", "/metrics",
    }  # fmt: skip


def test_every_metric_is_in_metrics_md() -> None:
    """docs/metrics.md lists each metric the gateway registers, and no gateway metric it lacks."""
    registry = CollectorRegistry()
    GatewayMetrics(registry)
    exposed = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in registry.collect()
    }
    text = (ROOT / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"`(archive_live_gateway_[a-z_]+)`", text))
    assert exposed == documented
