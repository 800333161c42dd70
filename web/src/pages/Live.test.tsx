import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";

import { type ApiServer, startApiServer } from "@/test/apiServer";
import { message, modAction } from "@/test/fixtures";
import { type LiveServer, startLiveServer } from "@/test/liveServer";
import { renderApp } from "@/test/render";

let api: ApiServer | null = null;
let live: LiveServer | null = null;

afterEach(async () => {
  await api?.close();
  await live?.stop();
  api = null;
  live = null;
});

async function start(): Promise<{ apiServer: ApiServer; liveServer: LiveServer }> {
  const liveServer = await startLiveServer();
  const liveUrl = liveServer.url;
  const apiServer = await startApiServer((url) => {
    if (url.pathname === "/api/config") return { body: { liveUrl } };
    if (url.pathname === "/api/channels") return { body: { channels: [] } };
    return undefined;
  });
  live = liveServer;
  api = apiServer;
  return { apiServer, liveServer };
}

describe("Live", () => {
  it("watches the channels of the URL and shows lines with moderation marked", async () => {
    const { apiServer, liveServer } = await start();
    renderApp("/live?channels=forsen,xqc", apiServer.base);
    expect(screen.getByTestId("page-live")).toBeInTheDocument();
    expect(screen.getAllByTestId("live-channel-chip").map((chip) => chip.textContent)).toEqual(["#forsen×", "#xqc×"]);
    await waitFor(() => expect(screen.getByTestId("live-status")).toHaveAttribute("data-state", "connected"));
    await waitFor(() => expect(liveServer.frames).toEqual([{ action: "subscribe", channels: ["forsen", "xqc"] }]));

    liveServer.send({
      type: "message",
      data: message({ id: "m1", userId: "1", userLogin: "spammer", text: "buy followers" }),
    });
    liveServer.send({ type: "message", data: message({ id: "m2", userId: "2", userLogin: "nice", text: "hi all" }) });
    liveServer.send({
      type: "delete",
      data: modAction({ id: "d1", action: "delete", targetMessageId: "m2", targetUserLogin: "nice" }),
    });
    liveServer.send({
      type: "mod_action",
      data: modAction({ id: "b1", action: "ban", targetUserId: "1", targetUserLogin: "spammer" }),
    });

    await waitFor(() => expect(screen.getAllByTestId("live-mod-action")).toHaveLength(2));
    const lines = screen.getAllByTestId("live-line");
    expect(lines.map((line) => line.dataset.messageId)).toEqual(["m1", "m2"]);
    expect(lines[0]).toHaveAttribute("data-moderated", "ban");
    expect(lines[1]).toHaveAttribute("data-deleted", "true");
    expect(screen.getAllByTestId("live-mod-action").map((line) => line.dataset.action)).toEqual(["delete", "ban"]);
  });

  it("adds a channel typed in the picker with Enter and removes it with its chip's button", async () => {
    const { apiServer, liveServer } = await start();
    renderApp("/live", apiServer.base);
    await waitFor(() => expect(screen.getByTestId("live-status")).toHaveAttribute("data-state", "connected"));

    const input = screen.getByTestId("live-channel-input");
    await userEvent.type(input, "#Forsen{Enter}");
    expect(await screen.findByTestId("live-channel-chip")).toHaveTextContent("#forsen");
    expect(screen.getByTestId("location")).toHaveTextContent("/live?channels=forsen");
    await waitFor(() => expect(liveServer.frames.at(-1)).toEqual({ action: "subscribe", channels: ["forsen"] }));

    await userEvent.type(input, "no way{Enter}");
    expect(screen.getByText(/Not a Twitch login: no way/)).toBeInTheDocument();
    expect(screen.getAllByTestId("live-channel-chip")).toHaveLength(1);

    await userEvent.click(
      within(screen.getByTestId("live-channel-chip")).getByRole("button", { name: "Stop watching forsen" }),
    );
    await waitFor(() => expect(screen.queryByTestId("live-channel-chip")).not.toBeInTheDocument());
    await waitFor(() => expect(liveServer.frames.at(-1)).toEqual({ action: "unsubscribe", channels: ["forsen"] }));
  });

  it("pauses auto-scroll when the reader scrolls up and resumes on demand", async () => {
    const { apiServer, liveServer } = await start();
    renderApp("/live?channels=forsen", apiServer.base);
    await waitFor(() => expect(liveServer.frames).toHaveLength(1));
    liveServer.send({ type: "message", data: message({ id: "m1" }) });
    await screen.findByTestId("live-line");
    const box = screen.getByTestId("live-lines");
    Object.defineProperty(box, "scrollHeight", { configurable: true, value: 2000 });
    Object.defineProperty(box, "clientHeight", { configurable: true, value: 400 });
    expect(screen.queryByTestId("live-resume")).not.toBeInTheDocument();

    box.scrollTop = 100;
    fireEvent.scroll(box);
    const resume = await screen.findByTestId("live-resume");
    liveServer.send({ type: "message", data: message({ id: "m2" }) });
    await waitFor(() => expect(screen.getAllByTestId("live-line")).toHaveLength(2));
    expect(box.scrollTop).toBe(100); // paused: new lines do not move the view
    expect(resume).toHaveTextContent("1 new");

    await userEvent.click(resume);
    expect(box.scrollTop).toBe(2000);
    expect(screen.queryByTestId("live-resume")).not.toBeInTheDocument();
  });

  it("says when the feed is disconnected and comes back by itself", async () => {
    const { apiServer, liveServer } = await start();
    renderApp("/live?channels=forsen", apiServer.base);
    await waitFor(() => expect(screen.getByTestId("live-status")).toHaveAttribute("data-state", "connected"));
    await liveServer.stop();
    await waitFor(() => expect(screen.getByTestId("live-status")).toHaveAttribute("data-state", "disconnected"));
    expect(screen.getByText("Disconnected from the live feed")).toBeInTheDocument();
    await liveServer.start();
    await userEvent.click(screen.getByRole("button", { name: "Reconnect now" }));
    await waitFor(() => expect(screen.getByTestId("live-status")).toHaveAttribute("data-state", "connected"));
    await waitFor(() => expect(liveServer.frames.filter((frame) => frame.action === "subscribe")).toHaveLength(2));
  });
});
