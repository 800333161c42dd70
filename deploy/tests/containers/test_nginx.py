"""deploy/docker/nginx.conf: the dashboard and its client routes, /api to the api and /api/live to
the gateway as a WebSocket, checked in the file and by a real nginx serving it."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
from aiohttp import web

from archive_api.settings import ApiSettings
from archive_live_gateway.settings import GatewaySettings

ROOT: Final = Path(__file__).resolve().parents[3]
NGINX_CONF: Final = ROOT / "deploy" / "docker" / "nginx.conf"
TEMPLATE_VARIABLE: Final = re.compile(r"\$\{(\w+)\}")
"""What the nginx image's entrypoint (envsubst) fills in; nginx's own `$var` stays."""
SET_BY_THE_ENTRYPOINT: Final = {"NGINX_LOCAL_RESOLVERS": "NGINX_ENTRYPOINT_LOCAL_RESOLVERS"}
"""Variables the image's entrypoint exports itself, and the variable that turns each on."""
TIME_UNITS: Final = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


# ---------------------------------------------------------------------------- the file


@dataclass
class Directive:
    """`name args...;` or `name args... { block }`."""

    name: str
    args: list[str]
    block: list[Directive] | None = None
    children: list[Directive] = field(default_factory=list)

    def find(self, name: str, *args: str) -> list[Directive]:
        """Direct children called `name` whose arguments start with `args`."""
        return [d for d in self.block or [] if d.name == name and d.args[: len(args)] == list(args)]

    def one(self, name: str, *args: str) -> Directive:
        found = self.find(name, *args)
        assert len(found) == 1, f"expected one `{name} {' '.join(args)}`, found {len(found)}"
        return found[0]

    def values(self, name: str) -> list[list[str]]:
        """The arguments of every child directive called `name`."""
        return [d.args for d in self.find(name)]


TOKEN: Final = re.compile(
    r"""#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{};]|(?:\$\{\w+\}|[^\s{};#"'])+"""
)
"""A comment, a quoted string, a brace or ';', or a word (`${name}` inside a word is a variable)."""


def parse_nginx(text: str) -> Directive:
    """The configuration as a tree of directives (comments dropped, quotes removed)."""
    root = Directive("(file)", [], [])
    stack = [root]
    words: list[str] = []
    for token in TOKEN.findall(text):
        if token.startswith("#"):
            continue
        if token == ";":
            assert words, "an empty directive"
            stack[-1].block.append(Directive(words[0], words[1:]))  # type: ignore[union-attr]
            words = []
        elif token == "{":
            directive = Directive(words[0], words[1:], [])
            stack[-1].block.append(directive)  # type: ignore[union-attr]
            stack.append(directive)
            words = []
        elif token == "}":
            assert not words, f"missing ';' after {words}"
            stack.pop()
            assert stack, "unbalanced '}'"
        else:
            words.append(token[1:-1] if token[0] in "\"'" else token)
    assert len(stack) == 1, "unclosed '{'"
    assert not words, f"missing ';' after {words}"
    return root


def seconds(value: str) -> float:
    """An nginx time (`660s`, `1h`, `30`) in seconds."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value)
    assert match, value
    return int(match.group(1)) * TIME_UNITS[match.group(2) or "s"]


@pytest.fixture(scope="module")
def conf() -> Directive:
    """deploy/docker/nginx.conf, parsed."""
    return parse_nginx(NGINX_CONF.read_text())


@pytest.fixture(scope="module")
def server(conf: Directive) -> Directive:
    """Its one `server` block."""
    return conf.one("server")


def _upstream(server: Directive, location: Directive) -> str:
    """The address `proxy_pass $var` sends to, through the server's `set $var ...`."""
    (target,) = location.one("proxy_pass").args
    assert target.startswith("$"), "proxy_pass through a variable: re-resolved, scale-proof"
    (assigned,) = [args[1] for args in server.values("set") if args[0] == target]
    return assigned


def test_the_config_parses(conf: Directive) -> None:
    """Braces balance and every directive ends with ';' (a check the parser itself makes)."""
    assert conf.find("server")
    with pytest.raises(AssertionError):
        parse_nginx("server { listen 80 }")


def test_the_live_feed_is_proxied_to_the_gateway_as_a_websocket(
    conf: Directive, server: Directive
) -> None:
    """/api/live goes to the gateway over HTTP/1.1 with the Upgrade handshake, unbuffered, kept
    open far longer than the gateway's heartbeat."""
    live = server.one("location", "=", "/api/live")
    assert _upstream(server, live) == "http://${GATEWAY_UPSTREAM}"
    assert live.values("proxy_http_version") == [["1.1"]]
    headers = {args[0]: args[1] for args in live.values("proxy_set_header")}
    assert headers["Upgrade"] == "$http_upgrade"
    assert headers["Connection"] == "$connection_upgrade"
    upgrade_map = conf.one("map", "$http_upgrade", "$connection_upgrade")
    assert upgrade_map.values("default") == [["upgrade"]]
    assert live.values("proxy_buffering") == [["off"]]
    heartbeat = GatewaySettings().heartbeat_s
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = live.values(timeout)
        assert seconds(value[0]) >= max(3600, 4 * heartbeat), timeout


def test_the_rest_of_the_api_goes_to_the_api(server: Directive) -> None:
    """/api/ goes to the api with the client's address, long enough for an export to finish."""
    api = server.one("location", "/api/")
    assert _upstream(server, api) == "http://${API_UPSTREAM}"
    headers = {args[0]: args[1] for args in api.values("proxy_set_header")}
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    (timeout,) = api.values("proxy_read_timeout")
    assert seconds(timeout[0]) > ApiSettings().export_statement_timeout_ms / 1000


def test_client_routes_fall_back_to_the_app(server: Directive) -> None:
    """Any other path is answered with index.html; fingerprinted assets 404 when missing."""
    assert server.one("location", "/").values("try_files") == [["$uri", "$uri/", "/index.html"]]
    assert server.one("location", "/assets/").values("try_files") == [["$uri", "=404"]]


def test_the_template_is_filled_from_the_image(server: Directive, web_dockerfile: Any) -> None:
    """Every `${VAR}` of the template is set by the web image, which installs it as a template
    into the folder nginx serves the built app from."""
    runtime = web_dockerfile.default_target
    env = runtime.env()
    for variable in set(TEMPLATE_VARIABLE.findall(NGINX_CONF.read_text())):
        assert env.get(SET_BY_THE_ENTRYPOINT.get(variable, variable)), variable
    copies = [c.value.split() for c in runtime.all("COPY")]
    assert ["deploy/docker/nginx.conf", "/etc/nginx/templates/default.conf.template"] in copies
    (dist,) = [c[-1] for c in copies if "--from=build" in c]
    assert dist.rstrip("/") == server.values("root")[0][0]


def test_upstreams_are_the_compose_services(
    web_dockerfile: Any, compose_file: dict[str, Any]
) -> None:
    """The image's default upstreams are the compose services on their default ports."""
    env = web_dockerfile.default_target.env()
    assert env["API_UPSTREAM"] == f"api:{ApiSettings().api_port}"
    assert env["GATEWAY_UPSTREAM"] == f"live-gateway:{GatewaySettings().gateway_port}"
    assert {"api", "live-gateway", "web"} <= set(compose_file["services"])


# ---------------------------------------------------------------------------- a real nginx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def render(workdir: Path, *, port: int, api: str, gateway: str, html: Path) -> Path:
    """The template filled as the image's entrypoint fills it, inside a main configuration like
    the image's, listening on `port`; returns the main file."""
    text = NGINX_CONF.read_text()
    for name, value in {
        "API_UPSTREAM": api,
        "GATEWAY_UPSTREAM": gateway,
        "NGINX_LOCAL_RESOLVERS": "127.0.0.1",
    }.items():
        text = text.replace(f"${{{name}}}", value)
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    text = text.replace("root /usr/share/nginx/html;", f"root {html};")
    text = text.replace("access_log /dev/stdout", f"access_log {workdir}/access.log")
    (workdir / "default.conf").write_text(text)
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").is_file() else ""
    temp = " ".join(
        f"{kind}_temp_path {workdir}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = workdir / "nginx.conf"
    main.write_text(
        f"pid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\nworker_processes 1;\n"
        f"events {{}}\nhttp {{ {mime} {temp} include {workdir}/default.conf; }}\n"
    )
    return main


@pytest.fixture
def site() -> Iterator[Path]:
    """A built app to serve, readable by nginx's worker user."""
    folder = Path(tempfile.mkdtemp(prefix="archive-web-"))
    try:
        folder.chmod(0o755)
        (folder / "assets").mkdir(mode=0o755)
        (folder / "index.html").write_text("<!doctype html><title>archive</title>")
        (folder / "assets" / "app-1a2b3c.js").write_text("console.log('archive')")
        yield folder
    finally:
        shutil.rmtree(folder)


def test_nginx_accepts_the_config(nginx: Path, tmp_path: Path, site: Path) -> None:
    """`nginx -t` accepts the template once the entrypoint's variables are filled in."""
    main = render(
        tmp_path, port=_free_port(), api="api:8000", gateway="live-gateway:8001", html=site
    )
    done = subprocess.run(
        [str(nginx), "-t", "-c", str(main), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


async def _api(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "served_by": "api",
            "path": request.path,
            "query": request.query_string,
            "forwarded_for": request.headers.get("X-Forwarded-For"),
        }
    )


async def _live(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"served_by": "live-gateway", "path": request.path})
    async for message in ws:
        await ws.send_str(f"echo {message.data}")
    return ws


@pytest.fixture
async def proxied(nginx: Path, tmp_path: Path, site: Path) -> AsyncIterator[str]:
    """nginx serving the template on a free port, with stand-ins for the api and the gateway
    that say who answered; yields its base URL."""
    api_app = web.Application()
    api_app.router.add_route("*", "/{tail:.*}", _api)
    live_app = web.Application()
    live_app.router.add_get("/api/live", _live)
    api_runner, api_port = await _serve(api_app)
    live_runner, live_port = await _serve(live_app)
    port = _free_port()
    main = render(
        tmp_path,
        port=port,
        api=f"127.0.0.1:{api_port}",
        gateway=f"127.0.0.1:{live_port}",
        html=site,
    )
    process = await asyncio.create_subprocess_exec(
        str(nginx),
        "-c",
        str(main),
        "-e",
        str(tmp_path / "error.log"),
        "-g",
        "daemon off;",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if process.returncode is not None:
                pytest.fail(f"nginx exited: {(tmp_path / 'error.log').read_text()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            break
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        await api_runner.cleanup()
        await live_runner.cleanup()


async def test_nginx_sends_each_path_where_it_belongs(proxied: str) -> None:
    """Through a real nginx: /api/* reaches the api with the client's address, /api/live opens
    a WebSocket to the gateway, client routes get the app, assets are cached, /healthz answers."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{proxied}/api/messages?channel=forsen") as response:
            assert response.status == 200
            body = await response.json()
        assert body["served_by"] == "api"
        assert body["path"] == "/api/messages"
        assert body["query"] == "channel=forsen"
        assert body["forwarded_for"] == "127.0.0.1"

        async with session.ws_connect(f"{proxied}/api/live") as ws:
            assert await ws.receive_json(timeout=5) == {
                "served_by": "live-gateway",
                "path": "/api/live",
            }
            await ws.send_str("subscribe")
            assert await ws.receive_str(timeout=5) == "echo subscribe"

        async with session.get(f"{proxied}/channels/forsen") as response:
            assert response.status == 200
            assert "<title>archive</title>" in await response.text()
            assert "no-cache" in response.headers["Cache-Control"]

        async with session.get(f"{proxied}/assets/app-1a2b3c.js") as response:
            assert response.status == 200
            assert response.headers["Cache-Control"] == "max-age=31536000"
        async with session.get(f"{proxied}/assets/missing.js") as response:
            assert response.status == 404

        async with session.get(f"{proxied}/healthz") as response:
            assert response.status == 200
            assert await response.text() == "ok\n"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
