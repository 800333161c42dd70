"""The Prometheus configuration: valid for promtool, every service scraped on its real port, and
alert rules that read only exported metrics, are unit-tested both ways and point at a runbook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest
import yaml

from archive_api.settings import ApiSettings
from archive_ingestor.settings import IngestorSettings
from archive_live_gateway.settings import GatewaySettings
from archive_writer.settings import WriterSettings

ROOT: Final = Path(__file__).resolve().parents[2]
PROMETHEUS: Final = ROOT / "deploy" / "prometheus"
CONFIG: Final = PROMETHEUS / "prometheus.yml"
RULE_FILES: Final = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS: Final = sorted((PROMETHEUS / "tests").glob("*.yml"))
ALERTS_GUIDE: Final = ROOT / "docs" / "operations.md"
"""Where each alert is explained: the operations guide's Alerts section."""

SERVICE_PORTS: Final = {
    "ingestor": (IngestorSettings, "metrics_port"),
    "writer": (WriterSettings, "metrics_port"),
    "api": (ApiSettings, "api_port"),
    "live-gateway": (GatewaySettings, "gateway_port"),
}
"""Compose service name (and scrape job) -> the setting whose default port serves /metrics."""


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _alerts_guide() -> str:
    """The Alerts section of the operations guide."""
    text = ALERTS_GUIDE.read_text()
    assert "\n## Alerts\n" in text, "docs/operations.md has no Alerts section"
    return text.split("\n## Alerts\n", 1)[1]


def _alert_rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in _load(path)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


ALERT_RULES: Final = _alert_rules()


@pytest.fixture(scope="module")
def promtool() -> str:
    """The promtool binary (Debian's `prometheus` package, installed by `make tools`)."""
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool not found: `make tools` installs Debian's prometheus package"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


# ---------------------------------------------------------------------------- promtool


def test_promtool_accepts_the_config(promtool: str) -> None:
    """`promtool check config` accepts prometheus.yml and the rule files it names."""
    done = _run(promtool, "check", "config", str(CONFIG.relative_to(ROOT)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(RULE_FILES)} rule files found" in done.stdout + done.stderr


def test_promtool_accepts_the_rules(promtool: str) -> None:
    """`promtool check rules` accepts every rule file."""
    done = _run(promtool, "check", "rules", *(str(p.relative_to(ROOT)) for p in RULE_FILES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_rule_unit_tests_pass(promtool: str) -> None:
    """`promtool test rules` passes every unit test of deploy/prometheus/tests."""
    assert RULE_TESTS, "no rule unit tests in deploy/prometheus/tests"
    done = _run(promtool, "test", "rules", *(str(p.relative_to(ROOT)) for p in RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------------------- rules


def test_every_alert_is_unit_tested_firing_and_silent() -> None:
    """Each alert has a promtool case where it fires and one where it stays silent."""
    firing: set[str] = set()
    silent: set[str] = set()
    for path in RULE_TESTS:
        spec = _load(path)
        rule_files = {(path.parent / name).resolve() for name in spec["rule_files"]}
        assert rule_files == {p.resolve() for p in RULE_FILES}, f"{path.name} tests other rules"
        for case in spec["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    alerts = {rule["alert"] for rule in ALERT_RULES}
    assert alerts - firing == set(), "alerts never shown firing"
    assert alerts - silent == set(), "alerts never shown silent"
    assert (firing | silent) - alerts == set(), "tests of alerts that do not exist"


@pytest.mark.parametrize("rule", ALERT_RULES, ids=lambda rule: rule["alert"])
def test_alert_reads_only_exported_metrics(
    rule: dict[str, Any], unknown_metrics: Callable[[str], set[str]]
) -> None:
    """Every metric an alert's expression reads is exported by a service (or Prometheus)."""
    assert unknown_metrics(rule["expr"]) == set()


@pytest.mark.parametrize("rule", ALERT_RULES, ids=lambda rule: rule["alert"])
def test_alert_explains_itself(rule: dict[str, Any]) -> None:
    """Each alert has a severity, a summary, a description and a runbook in the alerts guide."""
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert set(annotations) == {"summary", "description", "runbook_url"}
    assert all(annotations[key].strip() for key in annotations)
    anchor = rule["alert"].lower()
    assert annotations["runbook_url"] == f"docs/operations.md#{anchor}"
    headings = re.findall(r"^#+ +(\S+) *$", _alerts_guide(), flags=re.MULTILINE)
    assert rule["alert"] in headings, f"the alerts guide has no heading `### {rule['alert']}`"


def test_alert_names_are_unique() -> None:
    """No two rules share an alert name (their runbook anchors would collide)."""
    names = [rule["alert"] for rule in ALERT_RULES]
    assert len(names) == len(set(names))


def test_metrics_from_outside_the_services_are_documented(
    metric_names_of: Callable[[str], set[str]], exported_metrics: dict[str, str]
) -> None:
    """Metrics the rules take from the node exporter are named in the alerts guide."""
    guide = _alerts_guide()
    outside = {
        name
        for rule in ALERT_RULES
        for name in metric_names_of(rule["expr"])
        if name not in exported_metrics and name not in {"up", "ALERTS"}
    }
    assert outside, "no node exporter metric: drop this test and the node job"
    assert {name for name in outside if f"`{name}`" not in guide} == set()


# ---------------------------------------------------------------------------- scraping


def test_every_service_is_scraped_on_its_metrics_port() -> None:
    """Each service is found by Docker DNS (type A: every replica) on its default port."""
    config = _load(CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service, (settings, field_name) in SERVICE_PORTS.items():
        assert service in jobs, f"no scrape job for {service}"
        job = jobs[service]
        [lookup] = job["dns_sd_configs"]
        default = next(f.default for f in msgspec.structs.fields(settings) if f.name == field_name)
        assert lookup == lookup | {"names": [service], "type": "A", "port": default}
        assert job.get("metrics_path", "/metrics") == "/metrics"


def test_rule_files_are_loaded() -> None:
    """prometheus.yml loads the rules folder, relative to itself (promtool and the container)."""
    config = _load(CONFIG)
    loaded = {path for pattern in config["rule_files"] for path in CONFIG.parent.glob(pattern)}
    assert loaded == set(RULE_FILES)


# ---------------------------------------------------------------------------- the helper


def test_metric_names_are_read_from_promql(metric_names_of: Callable[[str], set[str]]) -> None:
    """The PromQL reader finds selectors and skips functions, keywords, labels and durations."""
    expr = (
        'sum by (le, route) (rate(archive_api_request_duration_seconds_bucket{route=~"$route"}'
        "[$__rate_interval])) / on (route) group_left max without (instance) "
        '(up{job="api"} offset 5m) or absent({__name__="not_exported_total"})'
        " unless deriv(archive_writer_consumer_lag_messages[15m:1m]) > 0"
    )
    assert metric_names_of(expr) == {
        "archive_api_request_duration_seconds_bucket",
        "up",
        "not_exported_total",
        "archive_writer_consumer_lag_messages",
    }


def test_unknown_metrics_are_reported(unknown_metrics: Callable[[str], set[str]]) -> None:
    """A misspelt metric is reported; one of each exported type suffix is accepted."""
    assert unknown_metrics("rate(archive_writer_rows_inserted[5m])") == {
        "archive_writer_rows_inserted"
    }
    assert (
        unknown_metrics(
            "archive_writer_rows_inserted_total + archive_writer_batch_size_events_count"
            " + archive_writer_commit_delay_seconds_bucket + archive_writer_postgres_up"
        )
        == set()
    )
