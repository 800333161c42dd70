"""The whole archive as processes for end-to-end tests: services, simulator, and the dashboard.

`stack` runs ingestor, writer, api and gateway for one test against the in-process simulator of
`simulator`. `web_stack` runs the same services once for a test module, with the built dashboard
(`web_dist`) served by the api and the simulator on a thread of its own, so synchronous browser
tests drive it through its HTTP control API. Everything runs on this run's database, NATS
namespace and Redis prefix.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from twitch_archive.simulator import SimulatorHandle, run_simulator
from twitch_archive.subjects import Names
from twitch_archive.testing.names import RunNames
from twitch_archive.testing.plugin import create_database, with_database
from twitch_archive.testing.services import in_ci

WATCHED = "e2e_alpha"
OTHER = "e2e_beta"
BIN = Path(sys.executable).parent
TIMEOUT_S = 45.0
ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BUILD_INPUTS = (
    "src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts",
    "tsconfig.json",
)  # fmt: skip
"""What a web/dist build is made from: a file here newer than dist/index.html means a rebuild."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for(check: Callable[[], Any], what: str, within: float = TIMEOUT_S) -> Any:
    """Poll `check` (blocking) until it returns something truthy; that value. Fails after
    `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")


def get_json(url: str, timeout: float = 5.0) -> Any:
    """GET `url` and decode its JSON body; raises urllib's errors (HTTPError for a status)."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return msgspec.json.decode(resp.read())


def answers(url: str) -> bool:
    """Whether GET `url` is 200 (readiness probes)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Stack:
    """The four archive services as child processes, with their URLs."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.api = f"http://127.0.0.1:{env['API_PORT']}"
        self.gateway = f"ws://127.0.0.1:{env['GATEWAY_PORT']}/api/live"
        self.gateway_http = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, script: str, **extra: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [str(BIN / script)], env={**self.env, **extra}, stdout=log, stderr=log
            )

    def start_services(self, irc_url: str, channels: str) -> None:
        """Ingestor (joining `channels` on the IRC server at `irc_url`), writer, api, gateway."""
        self.start(
            "ingestor",
            "archive-ingestor",
            TWITCH_IRC_URL=irc_url,
            CHANNELS=channels,
            METRICS_PORT=str(_free_port()),
        )
        self.start("writer", "archive-writer", METRICS_PORT=str(_free_port()))
        self.start("api", "archive-api")
        self.start("gateway", "archive-live-gateway")

    def stop_one(self, name: str) -> None:
        """SIGTERM one service and wait for it to exit."""
        process = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"{name} did not stop within 15 s of SIGTERM")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name in list(self.processes):
            self.stop_one(name)

    def wait_ready(self) -> None:
        """Block until the api and the gateway answer /readyz."""
        for name, base in (("api", self.api), ("gateway", self.gateway_http)):
            wait_for(partial(answers, f"{base}/readyz"), f"the {name} to be ready")

    def start_api(self, name: str, port: int | None = None) -> str:
        """Another api process on the same data (a free port unless given), once it is ready;
        its base URL."""
        port = _free_port() if port is None else port
        self.start(name, "archive-api", API_PORT=str(port))
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(f"{base}/readyz"), f"the api {name!r} to be ready")
        return base

    def json(self, path: str) -> Any:
        """GET `path` of the api; its decoded JSON."""
        return get_json(f"{self.api}{path}")

    @staticmethod
    def wait(check: Callable[[], Any], what: str, within: float = TIMEOUT_S) -> Any:
        """Poll the blocking `check` until it returns something truthy; that value."""
        return wait_for(check, what, within)

    def tail(self) -> str:
        return "\n".join(
            f"--- {path.name}\n" + path.read_text(errors="replace")[-2000:]
            for path in sorted(self.logs.glob("*.log"))
        )

    @staticmethod
    async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Poll the async `check` every 0.2 s until it is true; fail after 45 s."""
        await _until(check, what)


def stack_env(
    pg_url: str, nats_url: str, redis_url: str, redis_prefix: str, names: Names
) -> dict[str, str]:
    """The environment every service of a stack shares: this run's servers, free ports."""
    return {
        **os.environ,
        "DATABASE_URL": pg_url,
        "NATS_URL": nats_url,
        "NATS_NAMESPACE": names.ns,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "RATE_LIMIT_PER_MINUTE": "0",
        "API_PORT": str(_free_port()),
        "GATEWAY_PORT": str(_free_port()),
        "LOG_LEVEL": "info",
    }


@pytest.fixture
def e2e_names(names: Names) -> Names:
    """A namespace of this test's own inside the run's namespace."""
    return Names(ns=f"{names.ns}e2e.")


@pytest.fixture
async def simulator() -> AsyncIterator[SimulatorHandle]:
    """The simulated Twitch with two channels of steady traffic."""
    async with run_simulator(channels=[WATCHED, OTHER], rate=25.0, seed=None) as sim:
        yield sim


@pytest.fixture
def stack(
    pg_url: str,
    nats_url: str,
    redis_url: str,
    redis_prefix: str,
    e2e_names: Names,
    simulator: SimulatorHandle,
    tmp_path: Path,
) -> Iterator[Stack]:
    """Ingestor, writer, api and gateway processes wired to the simulator and this run's servers."""
    env = stack_env(pg_url, nats_url, redis_url, f"{redis_prefix}e2e:", e2e_names)
    stack = Stack(env, tmp_path)
    stack.start_services(simulator.irc_url, f"{WATCHED},{OTHER}")
    try:
        yield stack
    finally:
        stack.stop()


# ---------------------------------------------------------------------------------- dashboard


class SimulatorThread:
    """A simulator serving from an event loop on a thread of its own, so that synchronous code
    (Playwright's sync API, module-wide fixtures) can run it for longer than one test.

    Tests drive it like any client would: through its HTTP control API (docs/simulator.md)."""

    def __init__(self, **settings: Any) -> None:
        self._settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="simulator", daemon=True
        )
        self._stop: asyncio.Event | None = None
        self._done: Future[None] | None = None
        self.irc_url = ""
        self.control_url = ""

    def start(self) -> None:
        self._thread.start()
        ready: Future[tuple[str, str]] = Future()

        async def serve() -> None:
            self._stop = asyncio.Event()
            try:
                async with run_simulator(**self._settings) as sim:
                    ready.set_result((sim.irc_url, sim.control_url))
                    await self._stop.wait()
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)
                raise

        self._done = asyncio.run_coroutine_threadsafe(serve(), self._loop)
        self.irc_url, self.control_url = ready.result(timeout=30)

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._done is not None:
            self._done.result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST `body` (or GET without one) to `/control/<path>`; the decoded answer."""
        data = None if body is None else msgspec.json.encode(body)
        request = urllib.request.Request(
            f"{self.control_url}/{path}",
            data=data,
            method="GET" if data is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return msgspec.json.decode(resp.read())

    def send(self, channel: str, kind: str = "message", **fields: Any) -> dict[str, Any]:
        """Make one event (`/control/send`, fields as in SendRequest) and send it; the event."""
        result = self.control("send", {"channel": channel, "kind": kind, **fields})
        assert result["connections"] > 0, f"nobody had #{channel} joined: {result}"
        event: dict[str, Any] = result["event"]
        return event


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for item in path.rglob("*"):
                if item.is_file():
                    newest = max(newest, item.stat().st_mtime)
    return newest


def _run_npm(args: list[str], what: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"npm is not installed: it is needed to {what} (Node 20)", pytrace=False)
    done = subprocess.run(
        [npm, *args], cwd=WEB, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-4000:]
        pytest.fail(f"`npm {' '.join(args)}` in web/ failed ({what}):\n{output}", pytrace=False)


def build_web_dist() -> Path:
    """web/dist, built with `npm ci && npm run build` when it is missing or older than its
    sources; fails with the reason when it cannot be built."""
    if not (WEB / "package.json").is_file():
        pytest.fail(
            f"the dashboard's sources are missing: no {WEB / 'package.json'}", pytrace=False
        )
    dist = WEB / "dist"
    key = hashlib.sha256(str(WEB).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"twitch-archive-web-build-{key}.lock"
    with lock_path.open("w") as lock:
        # Two pytest processes (xdist workers, two developers) must not build at once.
        fcntl.flock(lock, fcntl.LOCK_EX)
        inputs = [WEB / name for name in BUILD_INPUTS]
        built = (dist / "index.html").stat().st_mtime if (dist / "index.html").is_file() else 0.0
        if built and built >= _newest_mtime(inputs):
            return dist
        installed = WEB / "node_modules" / ".package-lock.json"
        if not installed.is_file() or installed.stat().st_mtime < _newest_mtime(
            [WEB / "package-lock.json", WEB / "package.json"]
        ):
            _run_npm(["ci", "--no-audit", "--no-fund"], "install the dashboard's dependencies")
        _run_npm(["run", "build"], "build the dashboard")
    if not (dist / "index.html").is_file():
        pytest.fail("`npm run build` succeeded but web/dist/index.html is missing", pytrace=False)
    return dist


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built dashboard (web/dist), rebuilt once per session when its sources are newer."""
    return build_web_dist()


@pytest.fixture(scope="module")
def web_db_url(
    pg_server_url: str, pg_template: str, run_names: RunNames, _pg_numbers: Iterator[int]
) -> str:
    """A migrated database for a module's dashboard stack (the run drops it at session end)."""
    name = run_names.test_database(next(_pg_numbers))
    asyncio.run(create_database(pg_server_url, name, template=pg_template))
    return with_database(pg_server_url, name)


@pytest.fixture(scope="module")
def web_simulator() -> Iterator[SimulatorThread]:
    """A simulator with gentle traffic on two channels, for a whole browser test module."""
    sim = SimulatorThread(channels=[WATCHED, OTHER], rate=4.0, seed=None)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def web_stack(
    web_db_url: str,
    nats_url: str,
    redis_url: str,
    redis_prefix: str,
    names: Names,
    web_simulator: SimulatorThread,
    web_dist: Path,
    chromium: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The four services for a browser test module, the api serving the dashboard at `/`
    (skipped up front when there is no browser to look at it).

    The gateway admits only pages from the api's origin, as in production behind one host; the
    api's `/api/config` points the dashboard at the gateway (GATEWAY_PORT)."""
    env = stack_env(
        web_db_url, nats_url, redis_url, f"{redis_prefix}web:", Names(ns=f"{names.ns}web.")
    )
    api_port = env["API_PORT"]
    env["WEB_DIST"] = str(web_dist)
    env["ALLOWED_ORIGINS"] = f"http://127.0.0.1:{api_port},http://localhost:{api_port}"
    stack = Stack(env, tmp_path_factory.mktemp("web-stack"))
    stack.start_services(web_simulator.irc_url, f"{WATCHED},{OTHER}")
    try:
        stack.wait_ready()
        yield stack
    except BaseException:
        print(stack.tail())  # noqa: T201 - the services' logs explain a failure
        raise
    finally:
        stack.stop()


# ---------------------------------------------------------------------------------- browser

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps dialling Google's services, on a network that has none.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP: Final = {"width": 1280, "height": 800}
BROWSER_WAIT_MS: Final = 15_000
"""How long a browser action or expectation waits for the page."""
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on its test, so a failed browser test leaves a screenshot."""
    report: pytest.TestReport = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def chromium_path() -> Path:
    """Debian's Chromium (`make browser`), or CHROMIUM_PATH."""
    return Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; a skip without it (a failure under CI=true)."""
    path = chromium_path()
    if not os.access(path, os.X_OK):
        reason = f"Chromium not found at {path}: `make browser` installs it"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: a missing browser fails the run)", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def browser(chromium: Path, web_stack: Stack) -> Iterator[Browser]:
    """One headless Chromium for a test module.

    While Playwright's sync API is open, its event loop counts as running on the main thread,
    so nothing else there may use asyncio: the browser opens after the stack (whose database
    fixture uses `asyncio.run`) and closes with the module, before any other test module."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def shots(pytestconfig: pytest.Config) -> Path:
    """test-results/screenshots/ (git-ignored): what each page looked like."""
    folder = pytestconfig.rootpath / "test-results" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("FAILED-*.png"):
        stale.unlink()  # an earlier run's failures
    return folder


@dataclass
class Dash:
    """One page of a fresh browser context on the dashboard, with the errors it logged."""

    page: Page
    base: str
    shots: Path
    errors: list[str] = field(default_factory=list)

    def open(self, path: str, root: str) -> None:
        """Load `path` and wait for the page's root element (`page-<root>`)."""
        self.page.goto(f"{self.base}{path}")
        self.page.get_by_test_id(f"page-{root}").wait_for()

    def loaded(self) -> None:
        """Wait until no loading placeholder is left."""
        expect(self.page.get_by_test_id("loading")).to_have_count(0)

    def shot(self, name: str) -> None:
        """A full-page screenshot, test-results/screenshots/<name>.png, once lazily loaded
        parts (charts) have arrived."""
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=self.shots / f"{name}.png", full_page=True)

    def no_console_errors(self) -> None:
        assert self.errors == [], "the page logged errors:\n" + "\n".join(self.errors)

    def failed(self, test: str, stack: Stack) -> None:
        """Keep what the page showed (FAILED-<test>.png) and print the services' logs."""
        self.page.screenshot(path=self.shots / f"FAILED-{test}.png", full_page=True)
        print(f"page: {self.page.url}\n{stack.tail()}")  # noqa: T201 - logs explain a failure


DashFactory = Callable[..., AbstractContextManager[Dash]]


@pytest.fixture
def dashboard(
    browser: Browser, web_stack: Stack, shots: Path, request: pytest.FixtureRequest
) -> DashFactory:
    """`with dashboard(base=None, **context_options) as dash`: a fresh context (no cache, no
    storage) on the dashboard at `base` (the stack's api by default), desktop-sized unless
    `viewport` says otherwise. A failed test leaves FAILED-<test>.png."""
    expect.set_options(timeout=BROWSER_WAIT_MS)

    @contextmanager
    def open_dash(base: str | None = None, **options: Any) -> Iterator[Dash]:
        context = browser.new_context(**{"viewport": DESKTOP, **options})
        context.set_default_timeout(BROWSER_WAIT_MS)
        page = context.new_page()
        dash = Dash(page=page, base=base or web_stack.api, shots=shots)

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                dash.errors.append(f"console: {message.text} ({message.location.get('url')})")

        def crashed(error: PlaywrightError) -> None:
            dash.errors.append(f"uncaught: {error}")

        page.on("console", console)
        page.on("pageerror", crashed)
        try:
            yield dash
        except BaseException:
            dash.failed(request.node.name, web_stack)
            raise
        finally:
            context.close()

    return open_dash


@pytest.fixture
def dash(
    dashboard: DashFactory, web_stack: Stack, request: pytest.FixtureRequest
) -> Iterator[Dash]:
    """A fresh desktop-sized browser context on the dashboard."""
    with dashboard() as dash:
        yield dash
        report = request.node.stash.get(REPORTS, {}).get("call")
        if report is not None and report.failed:
            dash.failed(request.node.name, web_stack)
