import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { type ApiServer, closedPort, startApiServer } from "@/test/apiServer";
import { modAction } from "@/test/fixtures";
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

function startArchive() {
  return startApiServer((url) => {
    if (url.pathname === "/api/mod-actions") {
      return {
        body: {
          modActions: [
            modAction({ id: "b1", action: "ban", targetUserLogin: "spammer", createdAt: "2026-05-02T10:00:00Z" }),
            modAction({
              id: "t1",
              action: "timeout",
              targetUserLogin: "loud",
              durationSeconds: 600,
              createdAt: "2026-05-01T10:00:00Z",
            }),
          ],
          total: 2,
          totalIsExact: true,
          hasMore: false,
          nextCursor: null,
        },
      };
    }
    if (url.pathname === "/api/mod-actions/stats") {
      return {
        body: {
          channel: url.searchParams.get("channel"),
          since: "2026-04-25T00:00:00Z",
          until: "2026-05-02T00:00:00Z",
          interval: "day",
          total: 2,
          byType: { ban: 1, timeout: 1 },
          topModerators: [],
          series: [{ start: "2026-05-01T00:00:00Z", modActions: 2, bans: 1, timeouts: 1, deletions: 0 }],
        },
      };
    }
    return undefined;
  });
}

describe("Moderation", () => {
  it("lists actions with their targets linked, and the statistics", async () => {
    server = await startArchive();
    renderApp("/moderation?type=ban&channel=forsen", server.base);
    expect(screen.getByTestId("page-moderation")).toBeInTheDocument();
    const timeline = await screen.findByTestId("mod-timeline");
    const rows = within(timeline).getAllByTestId("mod-action-row");
    expect(rows.map((row) => [row.dataset.action, row.dataset.target])).toEqual([
      ["ban", "spammer"],
      ["timeout", "loud"],
    ]);
    expect(within(rows[0] as HTMLElement).getByRole("link", { name: "spammer" })).toHaveAttribute(
      "href",
      "/user/spammer",
    );
    const stats = await screen.findByTestId("mod-stats");
    expect(stats).toHaveTextContent("Not known: Twitch chat never names the moderator");
    const list = server.requests.find((url) => url.pathname === "/api/mod-actions");
    expect(Object.fromEntries(list?.searchParams ?? [])).toMatchObject({ type: "ban", channel: "forsen" });
    expect(server.requests.find((url) => url.pathname === "/api/mod-actions/stats")?.searchParams.get("channel")).toBe(
      "forsen",
    );
  });

  it("keeps the filters in the URL", async () => {
    server = await startArchive();
    renderApp("/moderation", server.base);
    await screen.findByTestId("mod-timeline");
    await userEvent.selectOptions(screen.getByTestId("moderation-type"), "timeout");
    await userEvent.type(screen.getByTestId("moderation-target"), "loud{Enter}");
    await waitFor(() =>
      expect(screen.getByTestId("location")).toHaveTextContent("/moderation?type=timeout&target=loud"),
    );
    await waitFor(() =>
      expect(
        server?.requests.some(
          (url) => url.pathname === "/api/mod-actions" && url.searchParams.get("target") === "loud",
        ),
      ).toBe(true),
    );
  });

  it("says once that the api is not answering when everything fails", async () => {
    renderApp("/moderation", `http://127.0.0.1:${await closedPort()}`);
    const error = await screen.findByTestId("error");
    expect(error).toHaveTextContent("The archive API is not answering");
    await waitFor(() => expect(screen.queryAllByTestId("loading")).toHaveLength(0));
    expect(screen.getAllByTestId("error")).toHaveLength(1);
    expect(within(error).getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });
});
