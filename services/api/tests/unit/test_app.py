"""The app factory without servers: OpenAPI schema, the dashboard's files, error shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry

from archive_api.app import create_app
from archive_api.settings import ApiSettings

SEED_PATHS = {
    ("get", "/api/messages"), ("get", "/api/messages/{message_id}"),
    ("get", "/api/messages/search"), ("get", "/api/users"), ("get", "/api/users/{username}"),
    ("get", "/api/users/{username}/messages"), ("get", "/api/users/{username}/mod-actions"),
    ("get", "/api/users/{username}/stats"), ("get", "/api/mod-actions"),
    ("get", "/api/mod-actions/recent"), ("get", "/api/mod-actions/stats"),
    ("get", "/api/channels"), ("get", "/api/channels/{name}"),
    ("get", "/api/channels/{name}/stats"), ("post", "/api/channels"),
    ("patch", "/api/channels/{name}"), ("delete", "/api/channels/{name}"),
    ("post", "/api/channels/{name}/rejoin"),
}  # fmt: skip


def app_with(**overrides):
    settings = ApiSettings(rate_limit_per_minute=0, **overrides)
    return create_app(settings, registry=CollectorRegistry())


def test_every_seed_endpoint_is_in_the_openapi_schema():
    """The schema documents each endpoint of the seed plan, with camelCase bodies."""
    schema = app_with().openapi_schema.to_schema()
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert operations >= SEED_PATHS
    page = schema["components"]["schemas"]["MessagePage"]
    assert set(page["properties"]) == {
        "messages", "total", "totalIsExact", "hasMore", "nextCursor",
    }  # fmt: skip
    admin = schema["paths"]["/api/channels"]["post"]
    assert admin["security"] == [{"bearer": []}]


def test_no_app_is_built_at_import():
    """The package exposes a factory only: no module-level app."""
    import archive_api.app as module

    assert not any(type(value).__name__ == "Litestar" for value in vars(module).values())


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A tiny built dashboard."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>dashboard</html>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "favicon.ico").write_bytes(b"\x00\x01")
    return tmp_path


async def test_the_dashboard_is_served_with_an_index_fallback(dist):
    """Files are served from WEB_DIST; unknown client routes get index.html; /api stays JSON."""
    # Not entered: the lifespan (PostgreSQL) does not run, and the static routes need none.
    client = AsyncTestClient(app_with(web_dist=str(dist)))
    index = await client.get("/")
    assert index.text == "<html>dashboard</html>"
    assert index.headers["content-type"].startswith("text/html")
    asset = await client.get("/assets/app.js")
    assert asset.text == "console.log(1)"
    assert "javascript" in asset.headers["content-type"]
    assert "immutable" in asset.headers["cache-control"]
    route = await client.get("/user/somebody")
    assert route.text == "<html>dashboard</html>"
    assert route.headers["cache-control"] == "no-cache"
    escape = await client.get("/../../etc/passwd")
    assert escape.text == "<html>dashboard</html>"
    api = await client.get("/api/nothing")
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"


async def test_head_answers_like_get_without_a_body(dist):
    """Uptime probes and link checkers send HEAD: the page's status and type, no body."""
    client = AsyncTestClient(app_with(web_dist=str(dist)))
    for path in ("/", "/user/somebody", "/assets/app.js"):
        response = await client.head(path)
        assert response.status_code == 200, path
        assert response.content == b""
    assert (await client.head("/")).headers["content-type"].startswith("text/html")
    assert (await client.head("/api/nothing")).status_code == 404


async def test_without_a_dist_nothing_is_served_at_the_root(tmp_path):
    """No WEB_DIST (or one without index.html): `/` is a JSON 404."""
    client = AsyncTestClient(app_with(web_dist=str(tmp_path)))
    response = await client.get("/")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "detail"}


async def test_validation_errors_use_the_error_shape_without_a_database():
    """Bad parameters are refused before any database access, naming the parameter."""
    client = AsyncTestClient(app_with())
    response = await client.get("/api/messages", params={"limit": "lots"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert response.json()["detail"].startswith("limit:")


@pytest.mark.parametrize(
    ("overrides", "base_url", "expected"),
    [
        ({}, "http://archive.lan:8000", "ws://archive.lan:8001/api/live"),
        ({"gateway_port": 9001}, "https://archive.example", "wss://archive.example:9001/api/live"),
        ({"live_url": "/api/live"}, "http://archive.lan:8000", "/api/live"),
    ],
)
async def test_the_dashboard_learns_where_the_live_feed_is(overrides, base_url, expected):
    """GET /api/config: LIVE_URL as set, else the gateway's port on the host the page used."""
    client = AsyncTestClient(app_with(**overrides), base_url=base_url)
    response = await client.get("/api/config")
    assert response.status_code == 200, response.text
    assert response.json() == {"liveUrl": expected}
