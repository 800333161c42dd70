import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";

import { type ApiServer, type Handler, closedPort, startApiServer } from "@/test/apiServer";
import { modAction, overview } from "@/test/fixtures";
import { renderApp } from "@/test/render";

let server: ApiServer | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
});

const archive: Handler = (url) => {
  switch (url.pathname) {
    case "/api/stats":
      return { body: overview() };
    case "/api/channels":
      return { body: { channels: [] } };
    case "/api/mod-actions/recent":
      return {
        body: {
          modActions: [modAction({ id: "a1", action: "timeout", durationSeconds: 600, targetUserLogin: "viewer" })],
        },
      };
    default:
      return undefined;
  }
};

describe("Home", () => {
  it("shows the totals as formatted numbers, recent moderation and the busiest channels", async () => {
    server = await startApiServer(archive);
    renderApp("/", server.base);
    expect(screen.getByTestId("page-home")).toBeInTheDocument();
    expect(screen.getAllByTestId("loading").length).toBeGreaterThan(0);

    const messages = await screen.findByTestId("stat-messages");
    expect(messages).toHaveTextContent(new Intl.NumberFormat().format(1234567));
    expect(screen.getByTestId("stat-channels")).toHaveTextContent("8");
    expect(screen.getByTestId("stat-users")).toHaveTextContent(new Intl.NumberFormat().format(31415));

    const recent = await screen.findByTestId("recent-mod-actions");
    const row = within(recent).getByTestId("mod-action-row");
    expect(row).toHaveAttribute("data-action", "timeout");
    expect(within(row).getByRole("link", { name: "viewer" })).toHaveAttribute("href", "/user/viewer");

    const top = screen.getByTestId("top-channels");
    expect(within(top).getByRole("link", { name: "#forsen" })).toHaveAttribute("href", "/messages?channel=forsen");
    expect(screen.getByTestId("archive-health")).toHaveTextContent("Coverage gaps open");
    expect(screen.getByTestId("ingest-lag")).toHaveTextContent("3s");

    const chatters = screen.getByTestId("top-users");
    expect(chatters).toHaveTextContent(`newest ${new Intl.NumberFormat().format(5000)} messages`);
    const [first] = within(chatters).getAllByRole("listitem");
    if (!first) throw new Error("no chatter listed");
    expect(within(first).getByRole("link", { name: "chatty_cathy" })).toHaveAttribute("href", "/user/chatty_cathy");
    expect(first).toHaveTextContent("42");
  });

  it("says the api is not answering, with a Retry that recovers once it is back", async () => {
    const port = await closedPort();
    renderApp("/", `http://127.0.0.1:${port}`);

    const alerts = await screen.findAllByRole("alert");
    const error = alerts.find((alert) => alert.dataset.testid === "error");
    expect(error).toBeDefined();
    expect(error).toHaveTextContent("The archive API is not answering");
    expect(screen.getByTestId("page-home")).toBeInTheDocument();
    // Every request failed, and the page says so once.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(screen.getAllByTestId("error")).toHaveLength(1);

    server = await startApiServer(archive, port);
    const retry = within(error as HTMLElement).getByRole("button", { name: "Retry" });
    await userEvent.click(retry);
    expect(await screen.findByTestId("stat-messages")).toBeInTheDocument();
  });

  it("explains a refusal with the api's detail", async () => {
    server = await startApiServer((url) =>
      url.pathname === "/api/stats"
        ? {
            status: 503,
            body: { error: "unavailable", detail: "database: not answering" },
            headers: { "Retry-After": "5" },
          }
        : archive(url),
    );
    renderApp("/", server.base);
    const errors = await screen.findAllByTestId("error");
    expect(errors[0]).toHaveRole("alert");
    expect(errors[0]).toHaveTextContent(
      "The archive API is not answering: its database or message bus is unavailable.",
    );
    expect(errors[0]).toHaveTextContent("database: not answering");
  });
});

describe("Layout", () => {
  it("has the navigation, a skip link and a theme toggle that remembers the choice", async () => {
    server = await startApiServer(archive);
    renderApp("/", server.base);
    const nav = screen.getByRole("navigation", { name: "Main" });
    for (const name of ["Home", "Live", "Messages", "Moderation"]) {
      expect(within(nav).getByRole("link", { name })).toBeInTheDocument();
    }
    expect(screen.getByRole("link", { name: "Skip to content" })).toHaveAttribute("href", "#main");

    const toggle = screen.getByRole("button", { name: "Toggle theme" });
    const wasDark = document.documentElement.classList.contains("dark");
    await userEvent.click(toggle);
    expect(document.documentElement.classList.contains("dark")).toBe(!wasDark);
    expect(window.localStorage.getItem("archive-theme")).toBe(wasDark ? "light" : "dark");
    await userEvent.click(toggle);
    expect(window.localStorage.getItem("archive-theme")).toBe(wasDark ? "dark" : "light");
  });

  it("moves focus to the page after navigating", async () => {
    server = await startApiServer(archive);
    renderApp("/", server.base);
    await userEvent.click(screen.getByRole("link", { name: "Moderation" }));
    expect(await screen.findByTestId("page-moderation")).toBeInTheDocument();
    expect(document.activeElement?.id).toBe("main");
  });
});
