"""The dashboard's speed in Chromium: first load of Home, scrolling 10,000 messages, bundle size.

Usage: uv run python bench/bench_web.py [--quick] [--runs N] [--keep]

1. Bundle: the production build (web/dist, built with `npm ci && npm run build` when missing or
   older than web/src) — gzip size (level 6, as servers and `vite build` report it) of the entry
   script and of every script index.html loads up front (entry + modulepreload), against the
   200 kB budget; all of dist's JS and CSS beside it.
2. Seed: a throwaway database (`archive_bench_web_<pid>`, dropped at the end unless --keep),
   migrated, filled by the writer's own Store (COPY into staging, then the set-based insert with
   every rollup) with the simulator's traffic generator: 10,000 messages in one channel over the
   last 24 hours (no deletions, so the channel lists exactly 10,000) and 10,000 mixed events
   over five more channels. Served by a real `python -m archive_api` with WEB_DIST.
3. First load of `/` in Debian's Chromium (`make browser`): a new browser context per run (no
   cache), navigation start to the stats being visible (the first frame after stat-messages
   shows a non-zero number), plus the Performance API's FCP, LCP and load event. One warm-up
   run, then the median of N (5; --quick 3). Goal: stats visible < 1 s.
4. Messages: `/messages?channel=<the 10,000>` is scrolled to the end until every result is
   loaded (rows counted from the api's answers the page received), then scrolled top to bottom
   in 600 equal steps, one per animation frame (--quick 300), timing every frame with
   requestAnimationFrame in the page: a frame is dropped when its delta exceeds 1.5 x 16.7 ms.
   Goals: dropped frames <= 2 % of frames; the DOM never holds more than 200 message rows.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from playwright.sync_api import Browser, Response, sync_playwright

from archive_writer.rows import MESSAGES, MOD_ACTIONS, USERNOTICES, row_for
from archive_writer.store import Channels, Store
from twitch_archive.db import create_pool
from twitch_archive.events import Message, ModAction
from twitch_archive.migrate import migrate
from twitch_archive.simulator.traffic import TrafficGenerator

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DIST = WEB / "dist"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_SERVER = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BUDGET_GZIP = 200_000
LOAD_GOAL_MS = 1000.0
FRAME_MS = 1000 / 60
DROPPED_OVER_MS = 1.5 * FRAME_MS
DROPPED_TOLERANCE = 0.02
ROWS_BOUND = 200
MAIN = "benchwebmain"
OTHERS = [f"benchweb{n}" for n in range(1, 6)]
RESULTS = 10_000
BUILD_INPUTS = (
    "src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts",
    "tsconfig.json",
)  # fmt: skip


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------------------------- bundle


def newest_mtime(paths: list[Path]) -> float:
    found = [p.stat().st_mtime for p in paths if p.is_file()]
    found += [f.stat().st_mtime for p in paths if p.is_dir() for f in p.rglob("*") if f.is_file()]
    return max(found, default=0.0)


def ensure_build() -> None:
    """web/dist from the current sources: `npm ci` when node_modules is missing or stale,
    then `npm run build` when dist is missing or older than its sources."""
    if not (WEB / "package.json").is_file():
        raise SystemExit(f"bench_web: no {WEB / 'package.json'}: the dashboard is missing")
    index = DIST / "index.html"
    if index.is_file() and index.stat().st_mtime >= newest_mtime([WEB / n for n in BUILD_INPUTS]):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("bench_web: npm is not installed (Node 20 is needed to build web/)")
    installed = WEB / "node_modules" / ".package-lock.json"
    steps = [["run", "build"]]
    if not installed.is_file() or installed.stat().st_mtime < newest_mtime(
        [WEB / "package.json", WEB / "package-lock.json"]
    ):
        steps.insert(0, ["ci", "--no-audit", "--no-fund"])
    for step in steps:
        print(f"building the dashboard: npm {' '.join(step)}", flush=True)
        done = subprocess.run([npm, *step], cwd=WEB, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"bench_web: npm {' '.join(step)} failed:\n{done.stdout}{done.stderr}")


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


@dataclass
class Bundle:
    entry: str
    entry_gzip: int
    initial_gzip: int
    initial_files: int
    all_js_gzip: int
    all_css_gzip: int


def bundle() -> Bundle:
    """Sizes of what index.html loads up front, and of everything in dist/assets."""
    html = (DIST / "index.html").read_text()
    entries = re.findall(r'<script[^>]*type="module"[^>]*src="([^"]+)"', html)
    preloads = re.findall(r'<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"', html)
    if not entries:
        raise SystemExit("bench_web: web/dist/index.html loads no module script")
    initial = [DIST / src.lstrip("/") for src in dict.fromkeys(entries + preloads)]
    assets = DIST / "assets"
    return Bundle(
        entry=entries[0],
        entry_gzip=gzip_size(DIST / entries[0].lstrip("/")),
        initial_gzip=sum(gzip_size(p) for p in initial),
        initial_files=len(initial),
        all_js_gzip=sum(gzip_size(p) for p in assets.rglob("*.js")),
        all_css_gzip=sum(gzip_size(p) for p in assets.rglob("*.css")),
    )


# ---------------------------------------------------------------------------------- data


async def seed(url: str) -> dict[str, int]:
    """Migrate `url` and store generated chat through the writer's Store; what was stored."""
    await migrate(url)
    pool = await create_pool(url, max_size=2, application_name="bench-web")
    store = Store(url, pool, timeout_s=120.0, channels=Channels(pool))
    generator = TrafficGenerator(None, seed=5)
    now_ms = time.time_ns() // 1_000_000
    span_ms = 24 * 3600 * 1000
    stored = {"messages": 0, "usernotices": 0, "mod_actions": 0}
    try:
        main = generator.channel(MAIN, 5.0)
        events: list[Any] = []
        step = span_ms // (RESULTS * 11 // 10)  # ~5 % of the stream is not messages
        ts = now_ms - span_ms
        while sum(isinstance(e, Message) for e in events) < RESULTS:
            ts += step
            event = main.next(ts).event
            # Deletions and clears would hide messages: the channel lists exactly RESULTS.
            if isinstance(event, ModAction) and event.action in {"delete", "clear"}:
                continue
            events.append(event)
        for n, name in enumerate(OTHERS):
            traffic = generator.channel(name, 5.0 / (n + 1))
            events += [traffic.next(now_ms - span_ms + i * step * 5).event for i in range(2000)]
        events.sort(key=lambda e: e.ts)
        for start in range(0, len(events), 2000):
            batch: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
            for event in events[start : start + 2000]:
                channel_id = await store.channels.resolve(event.channel, event.channel_id)
                kind, row = row_for(event, channel_id)
                batch[kind].append(row)
            result = await store.write(batch[MESSAGES], batch[USERNOTICES], batch[MOD_ACTIONS])
            for key, count in zip(stored, result.inserted, strict=True):
                stored[key] += count
    finally:
        await store.close()
        await pool.close()
    return stored


async def create_db(server: str, name: str) -> None:
    conn = await asyncpg.connect(with_database(server, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_db(server: str, name: str) -> None:
    conn = await asyncpg.connect(with_database(server, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextmanager
def api(database_url: str) -> Iterator[str]:
    """`python -m archive_api` serving web/dist on a free port; its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "API_PORT": str(port),
        "WEB_DIST": str(DIST),
        "RATE_LIMIT_PER_MINUTE": "0",
        "REDIS_PREFIX": f"bench:web{os.getpid()}:",
        "NATS_NAMESPACE": "bench.",
        "LOG_LEVEL": "warning",
    }
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "archive_api"], env=env, stdout=log, stderr=log
        )
        try:
            yield wait_ready(f"http://127.0.0.1:{port}", proc, log)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: IO[bytes]) -> str:
    """`base` once the api answers /readyz; exits with its log if it dies or takes 30 s."""
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return base
        except OSError:
            pass
        time.sleep(0.2)
    log.seek(0)
    tail = log.read().decode(errors="replace")[-2000:]
    raise SystemExit(f"bench_web: the api did not become ready:\n{tail}")


# ---------------------------------------------------------------------------------- browser

FIRST_LOAD_JS = """
(() => {
    // Runs before the page's own scripts: stamp the first frame in which stat-messages shows a
    // non-zero number, and keep the largest contentful paint.
    window.__bench = {statsVisible: null, lcp: null};
    const seen = () => {
        const el = document.querySelector('[data-testid="stat-messages"]');
        if (window.__bench.statsVisible === null && el && /[1-9]/.test(el.textContent || "")
                && el.getBoundingClientRect().height > 0) {
            observer.disconnect();
            requestAnimationFrame(() => { window.__bench.statsVisible = performance.now(); });
        }
    };
    const observer = new MutationObserver(seen);
    observer.observe(document, {childList: true, subtree: true, characterData: true});
    new PerformanceObserver((list) => {
        const entries = list.getEntries();
        window.__bench.lcp = entries[entries.length - 1].startTime;
    }).observe({type: "largest-contentful-paint", buffered: true});
})();
"""

TIMINGS_JS = """
() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return {
        stats: window.__bench.statsVisible,
        lcp: window.__bench.lcp,
        fcp: fcp ? fcp.startTime : null,
        dcl: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd,
    };
}
"""


def first_load(browser: Browser, base: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_init_script(FIRST_LOAD_JS)
        page = context.new_page()
        page.goto(f"{base}/", wait_until="load")
        page.wait_for_function("window.__bench.statsVisible !== null", timeout=30_000)
        page.wait_for_timeout(300)  # let a late LCP candidate be reported
        timings: dict[str, float] = page.evaluate(TIMINGS_JS)
        return timings
    finally:
        context.close()


SCROLLER_JS = """
() => {
    // The element that scrolls the message list: the nearest scrollable ancestor of a row.
    const row = document.querySelector('[data-testid="message-row"]');
    for (let node = row && row.parentElement; node; node = node.parentElement) {
        const style = getComputedStyle(node);
        if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) {
            node.setAttribute("data-bench-scroller", "");
            return "element";
        }
    }
    return "window";
}
"""

TO_BOTTOM_JS = """
() => {
    const s = document.querySelector("[data-bench-scroller]") || document.scrollingElement;
    s.scrollTop = s.scrollHeight;
    return s.scrollHeight;
}
"""

FRAMES_JS = """
async (steps) => {
    const s = document.querySelector("[data-bench-scroller]") || document.scrollingElement;
    s.scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const step = Math.max(1, (s.scrollHeight - s.clientHeight) / steps);
    const deltas = [];
    let maxRows = 0;
    let last = null;
    return await new Promise((resolve) => {
        const frame = (now) => {
            if (last !== null) deltas.push(now - last);
            last = now;
            maxRows = Math.max(
                maxRows, document.querySelectorAll('[data-testid="message-row"]').length);
            if (s.scrollTop + s.clientHeight >= s.scrollHeight - 1) {
                resolve({deltas, maxRows, step, height: s.scrollHeight});
                return;
            }
            s.scrollTop += step;
            requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
    });
}
"""


@dataclass
class Scroll:
    loaded: int
    requests: int
    load_s: float
    frames: int
    dropped: int
    p50: float
    p95: float
    p99: float
    worst: float
    max_rows: int
    step_px: float
    height_px: int
    scroller: str


def messages_scroll(browser: Browser, base: str, steps: int) -> Scroll:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    ids: set[str] = set()
    last_page: dict[str, Any] = {}
    requests = 0

    def answered(response: Response) -> None:
        nonlocal requests
        if "/api/messages" not in response.url or response.status != 200:
            return
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - an export or a non-JSON answer is not a page
            return
        if isinstance(body, dict) and isinstance(body.get("messages"), list):
            requests += 1
            ids.update(item["id"] for item in body["messages"])
            last_page.update(body)

    try:
        page = context.new_page()
        page.on("response", answered)
        page.goto(f"{base}/messages?channel={MAIN}")
        page.get_by_test_id("message-row").first.wait_for(timeout=30_000)
        scroller = page.evaluate(SCROLLER_JS)
        started = time.monotonic()
        stalled_since = time.monotonic()
        seen = 0
        while not (len(ids) >= RESULTS and last_page.get("hasMore") is False):
            page.evaluate(TO_BOTTOM_JS)
            page.wait_for_timeout(50)
            if len(ids) > seen:
                seen, stalled_since = len(ids), time.monotonic()
            elif time.monotonic() - stalled_since > 10:
                raise SystemExit(
                    f"bench_web: the Messages page stopped loading at {len(ids):,} of "
                    f"{RESULTS:,} results when scrolled to the end (infinite scroll?)"
                )
        load_s = time.monotonic() - started
        page.wait_for_timeout(500)
        result = page.evaluate(FRAMES_JS, steps)
    finally:
        context.close()
    deltas = sorted(result["deltas"])

    def pct(p: float) -> float:
        return float(deltas[min(len(deltas) - 1, int(p / 100 * len(deltas)))])

    return Scroll(
        loaded=len(ids),
        requests=requests,
        load_s=load_s,
        frames=len(deltas),
        dropped=sum(d > DROPPED_OVER_MS for d in deltas),
        p50=pct(50),
        p95=pct(95),
        p99=pct(99),
        worst=deltas[-1],
        max_rows=int(result["maxRows"]),
        step_px=float(result["step"]),
        height_px=int(result["height"]),
        scroller=str(scroller),
    )


# ---------------------------------------------------------------------------------- report


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 load runs, 300 scroll steps")
    parser.add_argument("--runs", type=int, default=None, help="first-load runs (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="server of the bench DB")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    steps = 300 if args.quick else 600
    if not os.access(CHROMIUM, os.X_OK):
        print(f"bench_web: no Chromium at {CHROMIUM}: run `make browser`", file=sys.stderr)
        return 1

    ensure_build()
    sizes = bundle()
    name = f"archive_bench_web_{os.getpid()}"
    url = with_database(args.database_url, name)
    started = time.monotonic()
    asyncio.run(create_db(args.database_url, name))
    try:
        stored = asyncio.run(seed(url))
        print(
            f"seeded {name} in {time.monotonic() - started:.0f} s: {stored['messages']:,} "
            f"messages, {stored['usernotices']:,} notices, {stored['mod_actions']:,} actions",
            flush=True,
        )
        # Playwright's sync API holds the main thread's event loop: no asyncio while it is open.
        with api(url) as base, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                first_load(browser, base)  # warm-up: server caches, PostgreSQL buffers
                loads = [first_load(browser, base) for _ in range(runs)]
                scroll = messages_scroll(browser, base, steps)
                version = browser.version
            finally:
                browser.close()
    finally:
        if not args.keep:
            asyncio.run(drop_db(args.database_url, name))

    def median(key: str) -> float:
        values = [run[key] for run in loads if run.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    stats_ms = median("stats")
    dropped_share = scroll.dropped / scroll.frames if scroll.frames else 1.0
    print(
        f"\ndashboard: production build served by the api, Chromium {version} headless, "
        f"1280x800; first load median of {runs} cold-cache runs after one warm-up\n"
    )
    header = f"{'figure':<44} {'measured':>26} {'goal':>10} {'ok':>3}"
    print(header)
    print("-" * len(header))
    rows = [
        (
            f"JS loaded up front, gzip ({sizes.initial_files} file(s))",
            f"{sizes.initial_gzip / 1000:.1f} kB",
            f"<= {BUDGET_GZIP / 1000:.0f} kB",
            yes(sizes.initial_gzip <= BUDGET_GZIP),
        ),
        (
            f"entry script {sizes.entry.rsplit('/', 1)[-1]}, gzip",
            f"{sizes.entry_gzip / 1000:.1f} kB",
            "",
            "",
        ),
        (
            "all JS / all CSS in dist, gzip",
            f"{sizes.all_js_gzip / 1000:.1f} / {sizes.all_css_gzip / 1000:.1f} kB",
            "",
            "",
        ),
        (
            "first load: navigation -> stats visible",
            f"{stats_ms:.0f} ms",
            f"< {LOAD_GOAL_MS:.0f} ms",
            yes(stats_ms < LOAD_GOAL_MS),
        ),
        (
            "first load: FCP / LCP / load event",
            f"{median('fcp'):.0f} / {median('lcp'):.0f} / {median('load'):.0f} ms",
            "",
            "",
        ),
        (
            "first load: stats visible, min-max",
            f"{min(r['stats'] for r in loads):.0f}-{max(r['stats'] for r in loads):.0f} ms",
            "",
            "",
        ),
        (
            f"messages loaded by scrolling, {scroll.requests} pages",
            f"{scroll.loaded:,} in {scroll.load_s:.1f} s",
            f"{RESULTS:,}",
            yes(scroll.loaded == RESULTS),
        ),
        (
            f"scroll end to end: frames > {DROPPED_OVER_MS:.0f} ms (dropped)",
            f"{scroll.dropped} of {scroll.frames} ({dropped_share:.1%})",
            f"<= {DROPPED_TOLERANCE:.0%}",
            yes(dropped_share <= DROPPED_TOLERANCE),
        ),
        (
            "scroll: frame delta p50 / p95 / p99 / max",
            f"{scroll.p50:.1f} / {scroll.p95:.1f} / {scroll.p99:.1f} / {scroll.worst:.0f} ms",
            "",
            "",
        ),
        (
            "scroll: most message rows in the DOM",
            f"{scroll.max_rows}",
            f"<= {ROWS_BOUND}",
            yes(0 < scroll.max_rows <= ROWS_BOUND),
        ),
        (
            f"scroll: list height, step ({scroll.scroller} scrolls)",
            f"{scroll.height_px:,} px, {scroll.step_px:.0f} px",
            "",
            "",
        ),
    ]
    for figure, measured, goal, ok in rows:
        print(f"{figure:<44} {measured:>26} {goal:>10} {ok:>3}")
    load = os.getloadavg()[0]
    print(f"\nload average during the run: {load:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
