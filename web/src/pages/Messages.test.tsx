import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { type ApiServer, startApiServer } from "@/test/apiServer";
import { message } from "@/test/fixtures";
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

const page = (messages: ReturnType<typeof message>[], more = false, cursor: string | null = null) => ({
  messages,
  total: messages.length,
  totalIsExact: true,
  hasMore: more,
  nextCursor: cursor,
});

async function startArchive() {
  return startApiServer((url) => {
    switch (url.pathname) {
      case "/api/channels":
        return { body: { channels: [] } };
      case "/api/messages":
        return {
          body: page([
            message({ id: "m1", text: "hello there", userLogin: "viewer" }),
            message({
              id: "m2",
              text: "rude words",
              userLogin: "troll",
              deleted: true,
              deletedAt: "2026-05-01T12:00:09Z",
            }),
          ]),
        };
      case "/api/messages/search":
        return {
          body: page([
            message({ id: "s1", text: `${url.searchParams.get("q")} indeed`, highlights: [{ start: 0, end: 4 }] }),
          ]),
        };
      case "/api/messages/m1/context":
        return {
          body: {
            message: message({ id: "m1", text: "hello there" }),
            before: [message({ id: "b1", text: "what came before" })],
            after: [message({ id: "a1", text: "what came after" })],
          },
        };
      default:
        return undefined;
    }
  });
}

describe("Messages", () => {
  it("lists messages with links to their authors, deleted ones marked with when", async () => {
    server = await startArchive();
    renderApp("/messages?includeDeleted=true", server.base);
    expect(screen.getByTestId("page-messages")).toBeInTheDocument();
    const rows = await screen.findAllByTestId("message-row");
    expect(rows.map((row) => row.dataset.messageId)).toEqual(["m1", "m2"]);
    // The display name is shown when it is the login's capitalisation.
    expect(within(rows[0] as HTMLElement).getByRole("link", { name: "Viewer" })).toHaveAttribute(
      "href",
      "/user/viewer",
    );
    expect(rows[1]).toHaveAttribute("data-deleted", "true");
    expect(rows[1]).toHaveTextContent(/deleted .*2026/);
    expect(
      server.requests.some(
        (url) => url.pathname === "/api/messages" && url.searchParams.get("includeDeleted") === "true",
      ),
    ).toBe(true);
  });

  it("searches 300 ms after typing stops, keeps the words in the URL and marks the matches", async () => {
    server = await startArchive();
    renderApp("/messages?channel=forsen", server.base);
    await screen.findAllByTestId("message-row");
    const box = screen.getByRole("searchbox");
    expect(box).toHaveAttribute("data-testid", "messages-search");

    await userEvent.type(box, "pog champ");
    const searches = () => server?.requests.filter((url) => url.pathname === "/api/messages/search") ?? [];
    expect(searches()).toHaveLength(0); // still typing: nothing sent yet
    await waitFor(() =>
      expect(screen.getByTestId("location")).toHaveTextContent("/messages?channel=forsen&q=pog+champ"),
    );
    const row = await screen.findByText((_, element) => (element as HTMLElement | null)?.dataset.messageId === "s1");
    expect(within(row).getByText("pog").tagName).toBe("MARK");
    expect(searches()).toHaveLength(1);
    expect(searches()[0]?.searchParams.get("q")).toBe("pog champ");
    expect(searches()[0]?.searchParams.get("channel")).toBe("forsen");

    const csv = screen.getByTestId("export-csv");
    const csvUrl = new URL(csv.getAttribute("href") ?? "");
    expect(csvUrl.pathname).toBe("/api/messages/search");
    expect(Object.fromEntries(csvUrl.searchParams)).toEqual({ q: "pog champ", channel: "forsen", format: "csv" });
    expect(new URL(screen.getByTestId("export-ndjson").getAttribute("href") ?? "").searchParams.get("format")).toBe(
      "ndjson",
    );
  });

  it("opens a message's context on click and closes it with Escape", async () => {
    server = await startArchive();
    renderApp("/messages", server.base);
    const rows = await screen.findAllByTestId("message-row");
    await userEvent.click(within(rows[0] as HTMLElement).getByText("hello there"));
    const dialog = await screen.findByTestId("message-context");
    expect(dialog).toHaveRole("dialog");
    expect(await within(dialog).findByText("what came before")).toBeInTheDocument();
    expect(within(dialog).getByText("what came after")).toBeInTheDocument();
    fireEvent.keyDown(document, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("message-context")).not.toBeInTheDocument());
  });

  it("opens the context with Enter on a focused row", async () => {
    server = await startArchive();
    renderApp("/messages", server.base);
    const rows = await screen.findAllByTestId("message-row");
    (rows[0] as HTMLElement).focus();
    await userEvent.keyboard("{Enter}");
    expect(await screen.findByTestId("message-context")).toBeInTheDocument();
  });

  it("keeps the filters of the URL in the form", async () => {
    server = await startArchive();
    renderApp("/messages?q=hello&user=viewer&includeDeleted=true", server.base);
    expect(screen.getByRole("searchbox")).toHaveValue("hello");
    expect(screen.getByTestId("messages-user")).toHaveValue("viewer");
    expect(screen.getByTestId("messages-include-deleted")).toBeChecked();
    await userEvent.click(screen.getByTestId("messages-include-deleted"));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/messages?q=hello&user=viewer"));
  });
});
