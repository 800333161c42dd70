// Vitest setup: jest-dom matchers, a clean DOM and storage between tests, a canvas that says
// "not available" quietly (jsdom has none; the charts then draw nothing instead of failing),
// and the `ws` package's WebSocket client as the page's WebSocket: jsdom's own client fires
// events of another realm than the test's globals and cannot open a connection under vitest.
import "@testing-library/jest-dom/vitest";

import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";

globalThis.WebSocket = NodeWebSocket as unknown as typeof WebSocket;
window.WebSocket = globalThis.WebSocket;

// jsdom has no media queries: answer "no match" (light theme, no reduced motion).
window.matchMedia = ((query: string) => ({
  matches: false,
  media: query,
  onchange: null,
  addEventListener: () => undefined,
  removeEventListener: () => undefined,
  addListener: () => undefined,
  removeListener: () => undefined,
  dispatchEvent: () => false,
})) as typeof window.matchMedia;

HTMLCanvasElement.prototype.getContext = (() => null) as unknown as HTMLCanvasElement["getContext"];

afterEach(() => {
  cleanup();
  window.localStorage.clear();
  document.documentElement.className = "";
});
