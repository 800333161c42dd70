// A real HTTP server on a free local port that answers api paths with the JSON a test gives,
// so the pages are tested through fetch, CORS and all, without stubbing fetch.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Handler = (url: URL) => Reply | undefined;

export interface ApiServer {
  /** http://127.0.0.1:<port>, to give the app as its api base. */
  base: string;
  port: number;
  /** Every request URL, in order. */
  requests: URL[];
  close: () => Promise<void>;
}

/** Serves `handle(url)`; an unknown path is a 404 in the api's error shape. */
export async function startApiServer(handle: Handler, port = 0): Promise<ApiServer> {
  const requests: URL[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    requests.push(url);
    const headers = {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Expose-Headers": "Retry-After",
      "Content-Type": "application/json",
    };
    if (request.method === "OPTIONS") {
      response.writeHead(204, { ...headers, "Access-Control-Allow-Headers": "Accept" });
      response.end();
      return;
    }
    const reply = handle(url) ?? {
      status: 404,
      body: { error: "not_found", detail: `path: no endpoint at ${url.pathname}` },
    };
    response.writeHead(reply.status ?? 200, { ...headers, ...reply.headers });
    response.end(JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
