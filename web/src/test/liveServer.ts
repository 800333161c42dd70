// A real WebSocket server speaking the gateway's protocol (services/live-gateway/README.md):
// it acknowledges subscribes, records every client frame, and lets a test push events, drop
// every connection, stop, and start again on the same port (a gateway restart).
import type { AddressInfo } from "node:net";

import { type WebSocket, WebSocketServer } from "ws";

export interface LiveServer {
  url: string;
  /** Every parsed client frame, in order, across connections. */
  frames: { action: string; channels: string[] }[];
  /** Connections accepted so far. */
  connections: () => number;
  /** Connections open now. */
  openClients: () => number;
  send: (frame: unknown) => void;
  /** Stop listening and drop every client (a gateway going away). */
  stop: () => Promise<void>;
  /** Listen again on the same port. */
  start: () => Promise<void>;
}

export async function startLiveServer(): Promise<LiveServer> {
  const frames: LiveServer["frames"] = [];
  const clients = new Set<WebSocket>();
  let accepted = 0;
  let server: WebSocketServer | null = null;
  let port = 0;

  const listen = async () => {
    server = new WebSocketServer({ host: "127.0.0.1", port, path: "/api/live" });
    await new Promise<void>((resolve) => server?.once("listening", () => resolve()));
    port = (server.address() as AddressInfo).port;
    server.on("connection", (socket) => {
      accepted += 1;
      clients.add(socket);
      const subscriptions = new Set<string>();
      socket.on("close", () => clients.delete(socket));
      socket.on("message", (raw) => {
        const frame = JSON.parse(String(raw)) as { action: string; channels: string[] };
        frames.push(frame);
        for (const channel of frame.channels) {
          if (frame.action === "subscribe") subscriptions.add(channel);
          else subscriptions.delete(channel);
        }
        const type = frame.action === "subscribe" ? "subscribed" : "unsubscribed";
        socket.send(JSON.stringify({ type, channels: frame.channels, subscriptions: [...subscriptions] }));
      });
    });
  };

  await listen();
  return {
    get url() {
      return `ws://127.0.0.1:${port}/api/live`;
    },
    frames,
    connections: () => accepted,
    openClients: () => clients.size,
    send: (frame) => {
      for (const client of clients) client.send(JSON.stringify(frame));
    },
    stop: async () => {
      for (const client of clients) client.terminate();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = null;
    },
    start: listen,
  };
}
