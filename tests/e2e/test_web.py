"""The dashboard in a real browser against the real archive: simulator, services, built web/dist.

Chromium (Debian's, `make browser`) loads the production build that the api serves at `/`, with
the live feed from the gateway; the simulator's control API injects the events the pages must
show. Selectors are the page contract's `data-testid`s. Screenshots of every page land in
test-results/screenshots/.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import Dash, DashFactory, SimulatorThread, Stack

WATCHED = "e2e_alpha"
OTHER = "e2e_beta"
PHONE = {"width": 375, "height": 740}
LIVE_WITHIN_S = 2.0
RETRY = re.compile("retry", re.IGNORECASE)

# The first test may build web/dist and starts the stack (about 30 s on two cores); the module's
# tests share both.
pytestmark = pytest.mark.timeout(150)


def _word() -> str:
    """A word no generated chat contains: letters only, so search tokenizes it whole."""
    return "zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


@dataclass(frozen=True)
class Seeded:
    """What the archive holds before the browser tests start."""

    speaker: str
    """A chatter the simulator made speak in WATCHED."""


@pytest.fixture(scope="module", autouse=True)
def seeded(web_stack: Stack, web_simulator: SimulatorThread) -> Seeded:
    """Traffic of both channels archived, a chatter to look up and a moderation action, before
    any page is opened."""

    def messages_of(channel: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = web_stack.json(f"/api/messages?channel={channel}&limit=5")[
            "messages"
        ]
        return items

    try:
        latest = web_stack.wait(lambda: messages_of(WATCHED), f"messages of #{WATCHED}")
        web_stack.wait(lambda: messages_of(OTHER), f"messages of #{OTHER}")
        web_simulator.send(WATCHED, "timeout", duration_s=60)
        web_stack.wait(
            lambda: web_stack.json(f"/api/mod-actions?channel={WATCHED}")["modActions"],
            "the injected timeout in the api",
        )
    except AssertionError:
        print(web_stack.tail())  # noqa: T201 - the services' logs explain a failure
        raise
    return Seeded(speaker=next(m["userLogin"] for m in latest if m["userLogin"]))


# ---------------------------------------------------------------------------------- helpers


def _has_number(page: Page, testid: str) -> None:
    """The element shows a number other than zero ("1,234", "12.3K")."""
    expect(page.get_by_test_id(testid)).to_have_text(re.compile(r"[1-9]"))


def _nav(page: Page) -> None:
    """The contract's nav bar: the four links and the theme toggle."""
    for name in ("Home", "Live", "Messages", "Moderation"):
        expect(page.get_by_role("link", name=name, exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name="Toggle theme")).to_have_count(1)


BACKGROUND_JS = """
(root) => {
    // The colour behind the page: the first opaque background from the root up, in sRGB
    // (computed styles may be oklch: a canvas converts any CSS colour).
    let node = root;
    let color = "rgb(255, 255, 255)";
    for (; node; node = node.parentElement) {
        const value = getComputedStyle(node).backgroundColor;
        const probe = document.createElement("canvas").getContext("2d");
        probe.fillStyle = "rgba(0, 0, 0, 0)";
        probe.fillStyle = value;
        probe.fillRect(0, 0, 1, 1);
        if (probe.getImageData(0, 0, 1, 1).data[3] === 255) {
            color = value;
            break;
        }
    }
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
"""

OVERFLOW_JS = """
() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
        .slice(0, 5)
        .map((el) => el.tagName.toLowerCase() +
            (el.dataset.testid ? `[${el.dataset.testid}]` : "") +
            ` "${(el.textContent || "").trim().slice(0, 40)}"`);
    return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide};
}
"""


def _luminance(page: Page, root: str) -> float:
    """Relative luminance (0 black, 1 white) of the background behind `page-<root>`."""
    return float(page.get_by_test_id(f"page-{root}").evaluate(BACKGROUND_JS))


def _make_dark(page: Page, root: str) -> None:
    """Press Toggle theme until the background is dark (a toggle may cycle light, dark and
    system); fail if no press makes it dark."""
    for _ in range(3):
        if _luminance(page, root) < 0.3:
            return
        page.get_by_role("button", name="Toggle theme").click()
        page.wait_for_timeout(150)  # let a theme transition settle before measuring
    assert _luminance(page, root) < 0.3, f"{root}: Toggle theme never gave a dark background"


def _fits_width(page: Page, where: str) -> None:
    found = page.evaluate(OVERFLOW_JS)
    assert found["scrollWidth"] <= found["clientWidth"], (
        f"{where}: the page is {found['scrollWidth']} px wide in a {found['clientWidth']} px "
        f"viewport; past the edge: {found['wide']}"
    )


# ---------------------------------------------------------------------------------- tests


def test_home_shows_the_archive_in_numbers(dash: Dash) -> None:
    """Home shows non-zero totals, recent moderation, the busiest channels and the archive's
    health, under the contract's nav bar."""
    page = dash.page
    dash.open("/", "home")
    for stat in ("stat-messages", "stat-channels", "stat-users"):
        _has_number(page, stat)
    for part in ("recent-mod-actions", "top-channels", "archive-health"):
        expect(page.get_by_test_id(part)).to_be_visible()
    expect(page.get_by_test_id("top-channels")).to_contain_text(WATCHED)
    _nav(page)
    dash.loaded()
    dash.shot("home")
    page.get_by_role("link", name="Messages", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/messages"))
    expect(page.get_by_test_id("page-messages")).to_be_visible()
    dash.no_console_errors()


def test_live_connects_and_streams_the_watched_channel(dash: Dash) -> None:
    """Live, opened with ?channels=, connects to the gateway and shows the channel's chat."""
    page = dash.page
    dash.open(f"/live?channels={WATCHED}", "live")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "connected")
    expect(page.get_by_test_id("live-channel-chip")).to_have_count(1)
    expect(page.get_by_test_id("live-channel-chip")).to_contain_text(WATCHED)
    expect(page.get_by_test_id("live-line").first).to_be_visible()
    dash.shot("live")
    dash.no_console_errors()


def test_messages_lists_archived_messages(dash: Dash) -> None:
    """Messages lists the newest archived messages, each author a link to their page."""
    page = dash.page
    dash.open("/messages", "messages")
    row = page.get_by_test_id("message-row").first
    expect(row).to_be_visible()
    expect(row.locator('a[href^="/user/"]').first).to_be_visible()
    dash.loaded()
    dash.shot("messages")
    dash.no_console_errors()


def test_a_chatters_page_shows_their_history(dash: Dash, seeded: Seeded) -> None:
    """The page of a user the simulator made speak shows their totals, channels, names and
    messages."""
    page = dash.page
    dash.open(f"/user/{seeded.speaker}", "user")
    _has_number(page, "user-total-messages")
    for part in ("user-first-seen", "user-last-seen", "user-frequency-chart", "user-mod-actions"):
        expect(page.get_by_test_id(part)).to_be_visible()
    expect(page.get_by_test_id("user-channels")).to_contain_text(WATCHED)
    expect(page.get_by_test_id("user-timeline").get_by_test_id("message-row").first).to_be_visible()
    dash.loaded()
    dash.shot("user")
    expect(page.get_by_test_id("user-names")).to_contain_text(seeded.speaker)
    dash.no_console_errors()


def test_moderation_lists_actions(dash: Dash) -> None:
    """Moderation lists the archived actions with their stats and timeline."""
    page = dash.page
    dash.open("/moderation", "moderation")
    expect(page.get_by_test_id("mod-action-row").first).to_be_visible()
    for part in ("mod-stats", "mod-timeline"):
        expect(page.get_by_test_id(part)).to_be_visible()
    dash.loaded()
    dash.shot("moderation")
    dash.no_console_errors()


def test_a_search_finds_a_message_the_simulator_sent(
    dash: Dash, web_stack: Stack, web_simulator: SimulatorThread
) -> None:
    """Typing a word into the Messages search box lists the message holding it, the word marked."""
    word = _word()
    sent = web_simulator.send(WATCHED, "message", text=f"did anyone see the {word} just now")
    web_stack.wait(
        lambda: web_stack.json(f"/api/messages/search?q={word}")["messages"],
        "the api to find the injected message",
    )
    page = dash.page
    dash.open("/messages", "messages")
    box = page.get_by_test_id("messages-search")
    expect(page.get_by_role("searchbox").and_(box)).to_have_count(1)
    box.fill(word)
    expect(page).to_have_url(re.compile(rf"[?&]q={word}(&|$)"))
    row = page.locator(f'[data-testid="message-row"][data-message-id="{sent["id"]}"]')
    expect(row).to_be_visible()
    expect(row.locator("mark").first).to_have_text(re.compile(f"^{word}$", re.IGNORECASE))
    expect(page.get_by_test_id("message-row")).to_have_count(1)
    dash.shot("messages-search")
    dash.no_console_errors()


def test_the_live_page_shows_an_injected_message_within_two_seconds(
    dash: Dash, web_simulator: SimulatorThread
) -> None:
    """A message sent on the simulated Twitch is on the Live page within 2 s; then its
    deletion and a ban."""
    page = dash.page
    dash.open(f"/live?channels={WATCHED}", "live")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "connected")
    # Generated traffic on the page proves the subscription is live before the clock starts.
    expect(page.get_by_test_id("live-line").first).to_be_visible()

    started = time.monotonic()
    sent = web_simulator.send(WATCHED, "message", text=f"live check {_word()}")
    line = page.locator(f'[data-testid="live-line"][data-message-id="{sent["id"]}"]')
    line.wait_for(timeout=10_000)
    elapsed = time.monotonic() - started
    assert elapsed < LIVE_WITHIN_S, f"the injected message took {elapsed:.2f} s to show"

    web_simulator.send(WATCHED, "delete", target_message_id=sent["id"])
    expect(line).to_have_attribute("data-deleted", "true")
    web_simulator.send(WATCHED, "ban")
    expect(page.locator('[data-testid="live-mod-action"][data-action="ban"]').first).to_be_visible()
    dash.shot("live-injected")
    dash.no_console_errors()


def test_a_ban_shows_on_moderation_and_on_the_targets_profile(
    dash: Dash, web_stack: Stack, web_simulator: SimulatorThread
) -> None:
    """A ban injected on the simulated Twitch is listed on Moderation and on the target's page."""
    ban = web_simulator.send(OTHER, "ban")
    target = ban["target_user_login"]
    assert target, f"the simulator's ban names no target: {ban}"
    web_stack.wait(
        lambda: (
            ban["id"]
            in {
                item["id"]
                for item in web_stack.json(f"/api/mod-actions?type=ban&target={target}")[
                    "modActions"
                ]
            }
        ),
        "the api to hold the ban",
    )
    page = dash.page
    dash.open("/moderation?type=ban", "moderation")
    row = page.locator(
        f'[data-testid="mod-action-row"][data-action="ban"][data-target="{target}"]'
    ).first
    expect(row).to_be_visible()
    dash.shot("moderation-ban")
    row.locator(f'a[href$="/user/{target}"]').first.click()
    expect(page).to_have_url(re.compile(rf"/user/{target}$"))
    expect(page.get_by_test_id("page-user")).to_be_visible()
    bans = page.get_by_test_id("user-mod-actions").locator(
        '[data-testid="mod-action-row"][data-action="ban"]'
    )
    expect(bans.first).to_be_visible()
    dash.shot("user-banned")
    dash.no_console_errors()


def test_a_dead_api_shows_the_error_state_and_retry_recovers(
    dashboard: DashFactory, web_stack: Stack, seeded: Seeded
) -> None:
    """With the api gone the page says so with a Retry button, and Retry works once it is back."""
    base = web_stack.start_api("api-doomed")
    port = int(base.rsplit(":", 1)[1])
    try:
        with dashboard(base=base) as dash:
            page = dash.page
            dash.open("/messages", "messages")
            expect(page.get_by_test_id("message-row").first).to_be_visible()

            web_stack.stop_one("api-doomed")
            page.get_by_role("link", name="Moderation", exact=True).first.click()
            # Each failed part of the page may show its own error; each has its Retry.
            errors = page.get_by_test_id("error")
            # A client may retry a failed request a few times, with backoff, before it says so.
            expect(errors.first).to_be_visible(timeout=30_000)
            for error in errors.all():
                expect(error).to_have_attribute("role", "alert")
                assert len(error.inner_text().strip()) > 10, "an error state says nothing"
                expect(error.get_by_role("button", name=RETRY)).to_be_visible()
            dash.shot("error-api-down")

            web_stack.start_api("api-doomed", port)
            for _ in range(errors.count()):
                retries = page.get_by_test_id("error").get_by_role("button", name=RETRY)
                if retries.count():
                    retries.first.click()
            expect(page.get_by_test_id("mod-action-row").first).to_be_visible()
            expect(page.get_by_test_id("error")).to_have_count(0)
    finally:
        if "api-doomed" in web_stack.processes:
            web_stack.stop_one("api-doomed")


@pytest.mark.parametrize("dark", [False, True], ids=["phone:default-theme", "phone:dark-theme"])
def test_no_page_is_wider_than_a_phone(dashboard: DashFactory, seeded: Seeded, dark: bool) -> None:
    """At 375 px, in the default theme and in the dark one, no page scrolls sideways."""
    paths = {
        "home": "/",
        "live": f"/live?channels={WATCHED}",
        "messages": "/messages",
        "user": f"/user/{seeded.speaker}",
        "moderation": "/moderation",
    }
    with dashboard(viewport=PHONE, color_scheme="light") as dash:
        page = dash.page
        for name, path in paths.items():
            dash.open(path, name)
            if name == "live":
                expect(page.get_by_test_id("live-line").first).to_be_visible()
            else:
                dash.loaded()
            if dark:
                _make_dark(page, name)
            _fits_width(page, f"{name} at {PHONE['width']} px{', dark' if dark else ''}")
            dash.shot(f"phone-{'dark-' if dark else ''}{name}")
        dash.no_console_errors()
