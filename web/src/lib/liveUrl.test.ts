import { describe, expect, it } from "vitest";

import { resolveLiveUrl } from "./liveUrl";

const page = (href: string) => {
  const url = new URL(href);
  return { protocol: url.protocol, host: url.host, hostname: url.hostname, port: url.port };
};

describe("resolveLiveUrl", () => {
  it("keeps an absolute ws URL", () => {
    expect(resolveLiveUrl("ws://archive.lan:8001/api/live", page("http://archive.lan:8000/live"))).toBe(
      "ws://archive.lan:8001/api/live",
    );
  });

  it("resolves a relative URL against the page and switches http to ws, https to wss", () => {
    expect(resolveLiveUrl("/api/live", page("http://localhost:5173/live"))).toBe("ws://localhost:5173/api/live");
    expect(resolveLiveUrl("/api/live", page("https://archive.example/live"))).toBe("wss://archive.example/api/live");
    expect(resolveLiveUrl("https://feed.example/api/live", page("https://archive.example/"))).toBe(
      "wss://feed.example/api/live",
    );
  });

  it("falls back to the gateway's port beside the api's without a configured URL", () => {
    expect(resolveLiveUrl("", page("http://127.0.0.1:8000/live"))).toBe("ws://127.0.0.1:8001/api/live");
    expect(resolveLiveUrl("", page("https://archive.example/live"))).toBe("wss://archive.example/api/live");
  });
});
