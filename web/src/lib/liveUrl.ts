// The live feed's WebSocket URL from /api/config: absolute, or relative to the page.

interface PageLocation {
  protocol: string;
  host: string;
  hostname: string;
  port: string;
}

/**
 * `raw` made absolute against the page, http -> ws and https -> wss.
 *
 * An api without /api/config (raw empty) is the local layout: the page from the api on :8000,
 * the gateway on :8001 of the same host; anywhere else (the dev server, a reverse proxy) the
 * feed is on the page's own origin.
 */
export function resolveLiveUrl(raw: string, page: PageLocation): string {
  const wsProtocol = page.protocol === "https:" ? "wss:" : "ws:";
  if (!raw) {
    if (page.port === "8000") return `${wsProtocol}//${page.hostname}:8001/api/live`;
    return `${wsProtocol}//${page.host}/api/live`;
  }
  const url = new URL(raw, `${page.protocol}//${page.host}/`);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  return url.toString();
}
