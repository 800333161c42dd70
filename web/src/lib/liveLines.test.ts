import { describe, expect, it } from "vitest";

import { message, modAction } from "@/test/fixtures";

import { type LiveEvent, type MessageLine, applyEvents, asLiveEvent, keepChannels } from "./liveLines";

const chat = (id: string, userLogin: string, channel = "forsen", userId: string | null = null): LiveEvent => ({
  type: "message",
  data: message({ id, userLogin, channel, userId }),
});

const messageLines = (lines: ReturnType<typeof applyEvents>) =>
  lines.filter((line): line is MessageLine => line.kind === "message");

describe("applyEvents", () => {
  it("keeps only the newest lines beyond the bound", () => {
    const events = Array.from({ length: 25 }, (_, i) => chat(`m${i}`, "viewer"));
    const lines = applyEvents([], events, 10);
    expect(lines).toHaveLength(10);
    expect(lines[0]?.key).toBe("message:m15");
    expect(lines[9]?.key).toBe("message:m24");
  });

  it("marks a deleted message with when, and adds the delete as its own line", () => {
    const lines = applyEvents(
      [],
      [
        chat("m1", "viewer"),
        chat("m2", "viewer"),
        {
          type: "delete",
          data: modAction({ id: "d1", action: "delete", targetMessageId: "m1", createdAt: "2026-05-01T12:00:09Z" }),
        },
      ],
    );
    const [first, second] = messageLines(lines);
    expect(first?.deletedAt).toBe("2026-05-01T12:00:09Z");
    expect(second?.deletedAt).toBeNull();
    expect(lines.at(-1)).toMatchObject({ kind: "mod_action", data: { action: "delete" } });
  });

  it("greys the banned user's lines in that channel only", () => {
    const lines = applyEvents(
      [],
      [
        chat("m1", "viewer", "forsen", "100"),
        chat("m2", "other", "forsen", "200"),
        chat("m3", "viewer", "xqc", "100"),
        { type: "mod_action", data: modAction({ action: "ban", channel: "forsen", targetUserId: "100" }) },
      ],
    );
    expect(messageLines(lines).map((line) => line.moderated)).toEqual(["ban", null, null]);
  });

  it("matches a timeout by login when the ids are unknown, and never turns a ban into a timeout", () => {
    const lines = applyEvents(
      [],
      [
        chat("m1", "viewer"),
        { type: "mod_action", data: modAction({ id: "a1", action: "ban", targetUserId: null }) },
        chat("m2", "viewer"),
        {
          type: "mod_action",
          data: modAction({ id: "a2", action: "timeout", durationSeconds: 600, targetUserId: null }),
        },
      ],
    );
    expect(messageLines(lines).map((line) => line.moderated)).toEqual(["ban", "timeout"]);
  });

  it("greys a cleared channel's lines", () => {
    const lines = applyEvents(
      [],
      [
        chat("m1", "viewer"),
        chat("m2", "other", "xqc"),
        { type: "mod_action", data: modAction({ action: "clear", targetUserId: null, targetUserLogin: null }) },
      ],
    );
    expect(messageLines(lines).map((line) => line.moderated)).toEqual(["clear", null]);
  });

  it("shows an event delivered twice once and never mutates its input", () => {
    const before = applyEvents([], [chat("m1", "viewer")]);
    const frozen = Object.freeze([...before]);
    const after = applyEvents(frozen, [chat("m1", "viewer"), chat("m2", "viewer")]);
    expect(after.map((line) => line.key)).toEqual(["message:m1", "message:m2"]);
    expect(frozen).toHaveLength(1);
  });
});

describe("frames", () => {
  it("accepts event frames and rejects acknowledgements and junk", () => {
    expect(asLiveEvent({ type: "message", data: message() })?.type).toBe("message");
    expect(asLiveEvent({ type: "subscribed", channels: ["forsen"] })).toBeNull();
    expect(asLiveEvent({ type: "message", data: { text: "no id" } })).toBeNull();
    expect(asLiveEvent("message")).toBeNull();
  });

  it("drops the lines of channels no longer watched", () => {
    const lines = applyEvents([], [chat("m1", "a", "forsen"), chat("m2", "b", "xqc")]);
    expect(keepChannels(lines, ["xqc"]).map((line) => line.key)).toEqual(["message:m2"]);
  });
});
