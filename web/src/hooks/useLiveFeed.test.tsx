import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import type { MessageLine } from "@/lib/liveLines";
import { message, modAction } from "@/test/fixtures";
import { type LiveServer, startLiveServer } from "@/test/liveServer";

import { backoffDelay, useLiveFeed } from "./useLiveFeed";

let server: LiveServer | null = null;

afterEach(async () => {
  await server?.stop();
  server = null;
});

const fast = { initialBackoffMs: 20, maxBackoffMs: 200, flushMs: 5 };
const top = () => 1;

describe("backoffDelay", () => {
  it("doubles from the first delay up to the cap, jittered at most 25% down", () => {
    expect([0, 1, 2, 3, 10].map((attempt) => backoffDelay(attempt, 500, 15_000, top))).toEqual([
      500, 1000, 2000, 4000, 15_000,
    ]);
    expect(backoffDelay(0, 500, 15_000, () => 0)).toBe(375);
  });
});

describe("useLiveFeed", () => {
  it("subscribes to the watched channels and shows their messages", async () => {
    server = await startLiveServer();
    const url = server.url;
    const { result } = renderHook(() => useLiveFeed({ url, channels: ["forsen", "xqc"], ...fast }));
    expect(result.current.status).toBe("connecting");
    await waitFor(() => expect(result.current.status).toBe("connected"));
    await waitFor(() => expect(server?.frames).toEqual([{ action: "subscribe", channels: ["forsen", "xqc"] }]));

    server.send({ type: "message", data: message({ id: "m1", text: "first" }) });
    server.send({ type: "message", data: message({ id: "m2", text: "second" }) });
    await waitFor(() => expect(result.current.lines.map((line) => line.key)).toEqual(["message:m1", "message:m2"]));
  });

  it("marks a deleted message and greys a banned user's lines as the frames arrive", async () => {
    server = await startLiveServer();
    const url = server.url;
    const { result } = renderHook(() => useLiveFeed({ url, channels: ["forsen"], ...fast }));
    await waitFor(() => expect(server?.frames).toHaveLength(1));
    server.send({ type: "message", data: message({ id: "m1", userId: "1", userLogin: "spammer" }) });
    server.send({ type: "message", data: message({ id: "m2", userId: "2", userLogin: "nice" }) });
    server.send({
      type: "delete",
      data: modAction({
        id: "d1",
        action: "delete",
        targetMessageId: "m2",
        targetUserLogin: "nice",
        targetUserId: null,
      }),
    });
    server.send({
      type: "mod_action",
      data: modAction({ id: "b1", action: "ban", targetUserId: "1", targetUserLogin: "spammer" }),
    });
    await waitFor(() => expect(result.current.lines).toHaveLength(4));
    const [spam, nice] = result.current.lines.filter((line): line is MessageLine => line.kind === "message");
    expect(spam?.moderated).toBe("ban");
    expect(nice?.deletedAt).not.toBeNull();
    expect(nice?.moderated).toBeNull();
  });

  it("keeps a bounded number of lines", async () => {
    server = await startLiveServer();
    const url = server.url;
    const { result } = renderHook(() => useLiveFeed({ url, channels: ["forsen"], maxLines: 5, ...fast }));
    await waitFor(() => expect(server?.frames).toHaveLength(1));
    for (let i = 0; i < 40; i += 1) server.send({ type: "message", data: message({ id: `m${i}` }) });
    await waitFor(() => expect(result.current.lines.at(-1)?.key).toBe("message:m39"));
    expect(result.current.lines.map((line) => line.key)).toEqual([
      "message:m35",
      "message:m36",
      "message:m37",
      "message:m38",
      "message:m39",
    ]);
  });

  it("says it is disconnected when the gateway goes away, then reconnects and subscribes again", async () => {
    server = await startLiveServer();
    const url = server.url;
    const { result } = renderHook(() => useLiveFeed({ url, channels: ["forsen"], ...fast }));
    await waitFor(() => expect(result.current.status).toBe("connected"));

    await server.stop();
    await waitFor(() => expect(result.current.status).toBe("disconnected"));
    // Attempts against the stopped gateway fail and keep backing off, still "disconnected".
    await waitFor(() => expect(result.current.attempt).toBeGreaterThanOrEqual(3));
    expect(result.current.status).toBe("disconnected");

    await server.start();
    await waitFor(() => expect(result.current.status).toBe("connected"), { timeout: 3000 });
    expect(result.current.attempt).toBe(0);
    await waitFor(() => expect(server?.frames.filter((frame) => frame.action === "subscribe")).toHaveLength(2));
    expect(server.frames.at(-1)).toEqual({ action: "subscribe", channels: ["forsen"] });
    expect(result.current.lines.at(-1)?.kind).toBe("system");
  });

  it("sends only the difference when the watched channels change", async () => {
    server = await startLiveServer();
    const url = server.url;
    const { result, rerender } = renderHook(({ channels }) => useLiveFeed({ url, channels, ...fast }), {
      initialProps: { channels: ["forsen"] },
    });
    await waitFor(() => expect(result.current.status).toBe("connected"));
    await waitFor(() => expect(server?.frames).toHaveLength(1));
    server.send({ type: "message", data: message({ id: "m1", channel: "forsen" }) });
    await waitFor(() => expect(result.current.lines).toHaveLength(1));

    rerender({ channels: ["xqc"] });
    await waitFor(() => expect(server?.frames).toHaveLength(3));
    expect(server.frames.slice(1)).toEqual([
      { action: "unsubscribe", channels: ["forsen"] },
      { action: "subscribe", channels: ["xqc"] },
    ]);
    expect(result.current.lines).toEqual([]);
  });

  it("keeps the gateway's error frames for the page to show", async () => {
    server = await startLiveServer();
    const url = server.url;
    const { result } = renderHook(() => useLiveFeed({ url, channels: ["forsen"], ...fast }));
    await waitFor(() => expect(result.current.status).toBe("connected"));
    act(() =>
      server?.send({
        type: "error",
        error: "too_many_channels",
        detail: "101 channels in one frame; the limit is 100",
      }),
    );
    await waitFor(() => expect(result.current.lastError?.error).toBe("too_many_channels"));
  });

  it("closes its socket when the page goes away", async () => {
    server = await startLiveServer();
    const url = server.url;
    const { result, unmount } = renderHook(() => useLiveFeed({ url, channels: ["forsen"], ...fast }));
    await waitFor(() => expect(result.current.status).toBe("connected"));
    expect(server.openClients()).toBe(1);
    unmount();
    await waitFor(() => expect(server?.openClients()).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.connections()).toBe(1);
  });
});
