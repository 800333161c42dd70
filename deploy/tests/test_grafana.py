"""The Grafana provisioning and dashboards: valid dashboard JSON on the provisioned datasource,
panels that read only exported metrics, and template variables that exist."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest
import yaml

ROOT: Final = Path(__file__).resolve().parents[2]
GRAFANA: Final = ROOT / "deploy" / "grafana"
DATASOURCES: Final = GRAFANA / "provisioning" / "datasources"
PROVIDERS: Final = GRAFANA / "provisioning" / "dashboards"
DASHBOARDS: Final = sorted((GRAFANA / "dashboards").glob("*.json"))
GRID_COLUMNS: Final = 24
UID: Final = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

OVERVIEW_METRICS: Final = {
    "ingest rate by event type": "archive_ingestor_events_total",
    "channels wanted": "archive_ingestor_channels_wanted",
    "channels joined": "archive_ingestor_channels_joined",
    "coverage gaps": "archive_ingestor_gaps_total",
    "publish delay": "archive_ingestor_publish_latency_seconds_bucket",
    "commit delay": "archive_writer_commit_delay_seconds_bucket",
    "consumer lag": "archive_writer_consumer_lag_messages",
    "batch sizes": "archive_writer_batch_size_events_bucket",
    "dead letters": "archive_writer_dead_lettered_total",
    "api latency per route": "archive_api_request_duration_seconds_bucket",
    "api error rate": "archive_api_request_duration_seconds_count",
    "gateway connections": "archive_live_gateway_connections",
    "events out": "archive_live_gateway_frames_sent_total",
    "client drops": "archive_live_gateway_clients_dropped_total",
}
"""What the overview must show, and the metric that shows it."""


def _provisioned_datasources() -> list[dict[str, Any]]:
    return [
        source
        for path in sorted(DATASOURCES.glob("*.yml"))
        for source in yaml.safe_load(path.read_text())["datasources"]
    ]


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, those folded inside collapsed rows included."""
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _load_dashboard(path: Path) -> dict[str, Any]:
    try:
        board: dict[str, Any] = msgspec.json.decode(path.read_bytes())
    except msgspec.DecodeError as exc:
        raise AssertionError(f"{path.name} is not valid JSON: {exc}") from exc
    return board


@pytest.fixture(scope="module")
def datasource_uid() -> str:
    """The uid of the provisioned Prometheus datasource."""
    [source] = _provisioned_datasources()
    return str(source["uid"])


def test_datasource_points_at_prometheus() -> None:
    """One provisioned datasource: the compose file's Prometheus, by a fixed uid."""
    [source] = _provisioned_datasources()
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert UID.match(source["uid"])


def test_dashboard_provider_loads_json_files() -> None:
    """A file provider loads the dashboards folder (mounted at its options.path)."""
    providers = [
        provider
        for path in sorted(PROVIDERS.glob("*.yml"))
        for provider in yaml.safe_load(path.read_text())["providers"]
    ]
    assert [provider["type"] for provider in providers] == ["file"]
    assert providers[0]["options"]["path"].startswith("/")
    assert DASHBOARDS, "no dashboard JSON in deploy/grafana/dashboards"


def test_dashboard_uids_are_unique() -> None:
    """Each dashboard has its own uid (a clash makes Grafana load only one of them)."""
    uids = [_load_dashboard(path)["uid"] for path in DASHBOARDS]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_is_valid_grafana_json(path: Path, datasource_uid: str) -> None:
    """uid, title and panels with a grid position inside 24 columns, on the provisioned uid."""
    board = _load_dashboard(path)
    assert UID.match(board["uid"]), board.get("uid")
    assert board["title"].strip()
    assert isinstance(board["schemaVersion"], int)
    panels = list(_panels(board["panels"]))
    assert panels
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        title = panel.get("title", "")
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid), title
        assert all(isinstance(grid[key], int) and grid[key] >= 0 for key in "hwxy"), title
        assert grid["w"] >= 1, title
        assert grid["h"] >= 1, title
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, title
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{title!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = title
        if panel["type"] == "row":
            continue
        assert title.strip(), f"panel {panel['id']} has no title"
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource_uid}, title
        assert panel["targets"], title
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource_uid, title
            assert target["expr"].strip(), title
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == datasource_uid, variable["name"]


def _queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable of a dashboard."""
    for panel in _panels(board["panels"]):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            inner = re.fullmatch(r"label_values\((.+),\s*\w+\)", text.strip())
            yield f"variable {variable['name']!r}", inner.group(1) if inner else text


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_panels_read_only_exported_metrics(
    path: Path, unknown_metrics: Callable[[str], set[str]]
) -> None:
    """Every metric a panel or a variable queries is exported by a service (or Prometheus)."""
    unknown = {
        where: missing
        for where, expr in _queries(_load_dashboard(path))
        if (missing := unknown_metrics(expr))
    }
    assert unknown == {}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_template_variables_exist(path: Path, variables_of: Callable[[str], set[str]]) -> None:
    """Every `$variable` a query uses is defined by the dashboard (or built into Grafana)."""
    board = _load_dashboard(path)
    defined = {variable["name"] for variable in board.get("templating", {}).get("list", [])}
    used = {
        name
        for _, expr in _queries(board)
        for name in variables_of(expr)
        if not name.startswith("__")
    }
    assert used - defined == set()


def test_overview_shows_what_an_operator_needs(metric_names_of: Callable[[str], set[str]]) -> None:
    """The overview dashboard graphs ingest, coverage, delays, lag, the api and the gateway."""
    board = _load_dashboard(GRAFANA / "dashboards" / "archive-overview.json")
    shown = {name for _, expr in _queries(board) for name in metric_names_of(expr)}
    missing = {topic for topic, metric in OVERVIEW_METRICS.items() if metric not in shown}
    assert missing == set()
