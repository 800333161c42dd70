"""Shared by the Prometheus and Grafana tests: which metric names the services really export, and
which metric names a PromQL expression reads, so no rule or panel can watch a metric that does
not exist (a typo there is an alert that never fires or a panel that stays empty)."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

import promql_parser
import pytest
from prometheus_client import CollectorRegistry

ROOT: Final = Path(__file__).resolve().parents[2]

SAMPLE_SUFFIXES: Final = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}
"""The series names one metric family is exposed as, by type (gauges and the rest: the name)."""

EXTERNAL_METRICS: Final = {
    "up": "Prometheus: 1 when the last scrape of a target succeeded, 0 when it failed",
    "ALERTS": "Prometheus: one series per pending or firing alert",
    "node_filesystem_avail_bytes": "node exporter: bytes free for unprivileged users",
    "node_filesystem_size_bytes": "node exporter: size of the filesystem",
    "node_filesystem_readonly": "node exporter: 1 when the filesystem is mounted read-only",
}
"""Metrics that come from Prometheus itself or from the node exporter, not from a service."""

GRAFANA_VARIABLE: Final = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]")
"""`$name`, `${name}`, `${name:format}` and the deprecated `[[name]]`."""
GRAFANA_INTERVALS: Final = frozenset({"__rate_interval", "__interval", "__range"})
"""Built-in variables that stand for a duration (`rate(x[$__rate_interval])`)."""


def service_metrics_modules() -> list[str]:
    """`archive_<service>.metrics` for every service folder with a `metrics.py`."""
    return [
        f"archive_{folder.name.replace('-', '_')}.metrics"
        for folder in sorted((ROOT / "services").iterdir())
        if (folder / "src" / f"archive_{folder.name.replace('-', '_')}" / "metrics.py").is_file()
    ]


def exported_metric_names() -> dict[str, str]:
    """Every series name the services expose, mapped to the module that defines it.

    Each service builds its metrics as a `...Metrics` class on a registry passed in; building
    each on an empty registry and walking what it collects finds every family, labelled ones
    that have no child yet included.
    """
    names: dict[str, str] = {}
    for module_name in service_metrics_modules():
        module = importlib.import_module(module_name)
        bundles = [
            value
            for value in vars(module).values()
            if inspect.isclass(value)
            and value.__module__ == module_name
            and value.__name__.endswith("Metrics")
        ]
        assert bundles, f"{module_name} defines no ...Metrics class"
        for bundle in bundles:
            registry = CollectorRegistry()
            bundle(registry)
            for family in registry.collect():
                for suffix in SAMPLE_SUFFIXES.get(family.type, ("",)):
                    names[family.name + suffix] = module_name
    return names


def substitute_grafana_variables(expr: str) -> str:
    """A Grafana query as Prometheus would receive it: intervals become `5m`, other variables
    (always inside a label matcher's quotes in these dashboards) become `.*`."""

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        return "5m" if name in GRAFANA_INTERVALS else ".*"

    return GRAFANA_VARIABLE.sub(replace, expr)


def grafana_variables(expr: str) -> set[str]:
    """The names of the Grafana variables an expression uses (built-ins start with `__`)."""
    return {
        next(group for group in match.groups() if group)
        for match in GRAFANA_VARIABLE.finditer(expr)
    }


def promql_metric_names(expr: str) -> set[str]:
    """The metric names every vector and matrix selector of a PromQL expression reads.

    Parsed by promql-parser (the Rust parser GreptimeDB uses), so function names, keywords
    (`by`, `on`, `group_left`), label names, durations and strings are never mistaken for
    metrics. A selector without a metric name (`{job="x"}`) is an error: it cannot be checked.
    """
    try:
        tree = promql_parser.parse(expr)
    except ValueError as exc:
        raise AssertionError(f"not valid PromQL: {expr!r}: {exc}") from exc
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name or next(
                (
                    m.value
                    for m in node.matchers.matchers
                    if m.name == "__name__" and m.op == promql_parser.MatchOp.Equal
                ),
                None,
            )
            if name is None:
                raise AssertionError(f"a selector without a metric name in {expr!r}")
            names.add(name)

    promql_parser.walk(tree, visit)
    return names


@pytest.fixture(scope="session")
def exported_metrics() -> dict[str, str]:
    """Series name -> the service metrics module that exports it."""
    return exported_metric_names()


@pytest.fixture(scope="session")
def metric_names_of() -> Callable[[str], set[str]]:
    """The metric names a PromQL expression reads (Grafana variables substituted first)."""
    return lambda expr: promql_metric_names(substitute_grafana_variables(expr))


@pytest.fixture(scope="session")
def variables_of() -> Callable[[str], set[str]]:
    """The Grafana variables a query uses, built-ins (`__rate_interval`) included."""
    return grafana_variables


@pytest.fixture(scope="session")
def unknown_metrics(
    exported_metrics: dict[str, str], metric_names_of: Callable[[str], set[str]]
) -> Callable[[str], set[str]]:
    """The metric names an expression reads that neither a service nor EXTERNAL_METRICS has."""
    known = set(exported_metrics) | set(EXTERNAL_METRICS)
    return lambda expr: metric_names_of(expr) - known
