import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { type ApiServer, startApiServer } from "@/test/apiServer";
import { message, modAction } from "@/test/fixtures";
import { stubLayout } from "@/test/layout";
import { renderApp } from "@/test/render";

let server: ApiServer | null = null;
let restore = () => undefined as void;

beforeEach(() => {
  restore = stubLayout();
});

afterEach(async () => {
  restore();
  await server?.close();
  server = null;
});

const channel = {
  channel: "forsen",
  channelId: "22484632",
  messages: 250,
  firstSeen: "2024-01-01T00:00:00Z",
  lastSeen: "2026-05-01T12:00:00Z",
};

/** 250 messages in two cursor pages of 200 and 50. */
const messages = Array.from({ length: 250 }, (_, i) =>
  message({ id: `m${i}`, text: `line ${i}`, sentAt: new Date(Date.UTC(2026, 4, 1, 12) - i * 60_000).toISOString() }),
);

function startArchive() {
  return startApiServer((url) => {
    const base = "/api/users/viewer";
    switch (url.pathname) {
      case base:
        return {
          body: {
            id: "100",
            login: "viewer",
            displayName: "Viewer",
            firstSeen: "2024-01-01T00:00:00Z",
            lastSeen: "2026-05-01T12:00:00Z",
            messageCount: 250,
            channelCount: 1,
            channels: [channel],
            previousLogins: ["old_viewer"],
          },
        };
      case `${base}/stats`:
        return {
          body: {
            id: "100",
            login: "viewer",
            totalMessages: 250,
            channelsActive: 1,
            bans: 1,
            timeouts: 2,
            unbans: 0,
            deletions: 3,
            lastBanAt: null,
            lastTimeoutAt: null,
            timeoutSecondsTotal: 1200,
            channels: [channel],
          },
        };
      case `${base}/names`:
        return {
          body: {
            id: "100",
            login: "viewer",
            names: [
              { login: "viewer", firstSeen: "2025-01-01T00:00:00Z", lastSeen: "2026-05-01T12:00:00Z", current: true },
              {
                login: "old_viewer",
                firstSeen: "2024-01-01T00:00:00Z",
                lastSeen: "2024-12-31T00:00:00Z",
                current: false,
              },
            ],
          },
        };
      case `${base}/mod-actions`:
        return {
          body: {
            modActions: [modAction({ id: "t1", action: "timeout", durationSeconds: 600 })],
            total: 1,
            totalIsExact: true,
            hasMore: false,
            nextCursor: null,
          },
        };
      case `${base}/messages`: {
        const second = url.searchParams.get("cursor") === "page2";
        return {
          body: {
            messages: second ? messages.slice(200) : messages.slice(0, 200),
            total: 250,
            totalIsExact: true,
            hasMore: !second,
            nextCursor: second ? null : "page2",
          },
        };
      }
      default:
        return undefined;
    }
  });
}

describe("User", () => {
  it("shows the profile, names, moderation received and the message frequency", async () => {
    server = await startArchive();
    renderApp("/user/viewer", server.base);
    expect(screen.getByTestId("page-user")).toBeInTheDocument();
    expect(await screen.findByTestId("user-total-messages")).toHaveTextContent("250");
    expect(screen.getByTestId("user-first-seen")).toHaveTextContent("2024");
    expect(screen.getByTestId("user-last-seen")).toHaveTextContent("2026");
    expect(within(screen.getByTestId("user-channels")).getByRole("link", { name: "#forsen" })).toBeInTheDocument();
    const names = await screen.findByTestId("user-names");
    expect(names).toHaveTextContent("old_viewer");
    expect(names).toHaveTextContent("current");
    const actions = await screen.findByTestId("user-mod-actions");
    expect(within(actions).getByTestId("mod-action-row")).toHaveAttribute("data-action", "timeout");
    expect(await screen.findByTestId("user-frequency-chart")).toBeInTheDocument();
  });

  it("pages through the timeline by cursor", async () => {
    server = await startArchive();
    renderApp("/user/viewer", server.base);
    const timeline = await screen.findByTestId("user-timeline");
    expect(within(timeline).getAllByTestId("message-row")[0]).toHaveAttribute("data-message-id", "m0");
    timeline.scrollTop = 249 * 40;
    timeline.dispatchEvent(new Event("scroll"));
    await waitFor(() =>
      expect(
        server?.requests.some(
          (url) => url.pathname.endsWith("/messages") && url.searchParams.get("cursor") === "page2",
        ),
      ).toBe(true),
    );
    await waitFor(() => expect(screen.getByText(/250 loaded/)).toBeInTheDocument());
    expect(within(timeline).getAllByTestId("message-row").length).toBeLessThan(40);
  });

  it("says so when the user is not in the archive", async () => {
    server = await startApiServer(() => ({
      status: 404,
      body: { error: "not_found", detail: "username: no user 'nobody'" },
    }));
    renderApp("/user/nobody", server.base);
    const error = await screen.findByTestId("error");
    expect(error).toHaveTextContent("Not found in the archive.");
    expect(error).toHaveTextContent("no user 'nobody'");
    expect(within(error).getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });
});
