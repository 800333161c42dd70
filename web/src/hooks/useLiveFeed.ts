// The live feed over one WebSocket: subscribes to the watched channels, reconnects by itself
// with exponential backoff (and subscribes again) after the gateway restarts, and batches the
// events into the bounded list of lines a few times a second.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";

import {
  type LiveEvent,
  type LiveLine,
  DEFAULT_MAX_LINES,
  applyEvents,
  asLiveEvent,
  keepChannels,
} from "@/lib/liveLines";

export type LiveStatus = "connecting" | "connected" | "disconnected";

export interface LiveFeedOptions {
  /** ws:// URL of /api/live; null while it is not known yet. */
  url: string | null;
  /** Channel logins to watch. */
  channels: readonly string[];
  maxLines?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often received events are drawn: one render per batch, not per event. */
  flushMs?: number;
}

export interface LiveFeed {
  status: LiveStatus;
  lines: LiveLine[];
  /** Failed connection attempts since the last success. */
  attempt: number;
  /** When the next attempt starts (ms since the epoch), while disconnected. */
  retryAt: number | null;
  /** The last `error` frame of the gateway (an invalid channel, too many channels, ...). */
  lastError: { error: string; detail: string } | null;
  /** Connect now instead of waiting for the backoff. */
  reconnect: () => void;
  /** Empty the view. */
  clear: () => void;
}

/** Delay before attempt `attempt` (0-based): doubles from `initialMs` up to `maxMs`, with
 * 25% jitter down so that many clients of a restarted gateway do not all come back at once. */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(full * (0.75 + 0.25 * random()));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

export function useLiveFeed({
  url,
  channels,
  maxLines = DEFAULT_MAX_LINES,
  initialBackoffMs = 500,
  maxBackoffMs = 15_000,
  flushMs = 50,
}: LiveFeedOptions): LiveFeed {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [lines, setLines] = useState<LiveLine[]>([]);
  const [attempt, setAttempt] = useState(0);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const [lastError, setLastError] = useState<LiveFeed["lastError"]>(null);

  const socketRef = useRef<WebSocket | null>(null);
  const channelsRef = useRef<readonly string[]>(channels);
  const subscribedRef = useRef<string[]>([]);
  const bufferRef = useRef<LiveEvent[]>([]);
  const flushTimerRef = useRef<ReturnType<typeof setTimeout> | null>(null);
  const maxRef = useRef(maxLines);
  const connectNowRef = useRef<(() => void) | null>(null);

  // The socket's handlers outlive renders: they read the newest props through these refs.
  useLayoutEffect(() => {
    maxRef.current = maxLines;
    channelsRef.current = channels;
  });

  const flush = useCallback(() => {
    flushTimerRef.current = null;
    const events = bufferRef.current;
    if (events.length === 0) return;
    bufferRef.current = [];
    setLines((current) => applyEvents(current, events, maxRef.current));
  }, []);

  useEffect(() => {
    if (!url) return undefined;
    let disposed = false;
    let failures = 0;
    let everConnected = false;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;

    const connect = () => {
      if (disposed) return;
      setRetryAt(null);
      let socket: WebSocket;
      try {
        socket = new WebSocket(url);
      } catch (error) {
        // A malformed URL: nothing to retry against.
        setStatus("disconnected");
        setLastError({ error: "invalid_url", detail: error instanceof Error ? error.message : String(error) });
        return;
      }
      socketRef.current = socket;
      // Only the first attempt says "connecting": after a failure the page says "disconnected"
      // until a connection opens, instead of flickering at every retry.
      if (!everConnected && failures === 0) setStatus("connecting");

      socket.onopen = () => {
        if (disposed) return;
        failures = 0;
        setAttempt(0);
        setStatus("connected");
        const watched = [...channelsRef.current];
        subscribedRef.current = watched;
        if (watched.length > 0) socket.send(JSON.stringify({ action: "subscribe", channels: watched }));
        if (everConnected) {
          const at = new Date().toISOString();
          flush();
          setLines((current) =>
            [
              ...current,
              {
                kind: "system" as const,
                key: `system:reconnected:${at}`,
                channel: "" as const,
                text: "Reconnected: messages sent while disconnected are not shown here (they are in the archive).",
                at,
              },
            ].slice(-maxRef.current),
          );
        }
        everConnected = true;
      };

      socket.onmessage = (frame: MessageEvent) => {
        if (disposed || typeof frame.data !== "string") return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(frame.data);
        } catch {
          return; // the gateway sends JSON only; anything else is ignored
        }
        const event = asLiveEvent(parsed);
        if (event) {
          bufferRef.current.push(event);
          if (flushTimerRef.current === null) flushTimerRef.current = setTimeout(flush, flushMs);
          return;
        }
        const { type, error, detail } = parsed as { type?: unknown; error?: unknown; detail?: unknown };
        if (type === "error") setLastError({ error: String(error), detail: String(detail ?? "") });
      };

      // A failed connection or a dropped one is followed by `close`, which reconnects.
      socket.onerror = () => undefined;

      socket.onclose = () => {
        if (disposed || socketRef.current !== socket) return;
        socketRef.current = null;
        subscribedRef.current = [];
        setStatus("disconnected");
        const delay = backoffDelay(failures, initialBackoffMs, maxBackoffMs);
        failures += 1;
        setAttempt(failures);
        setRetryAt(Date.now() + delay);
        retryTimer = setTimeout(connect, delay);
      };
    };

    connectNowRef.current = () => {
      if (socketRef.current !== null) return; // open or opening already
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      connect();
    };

    connect();
    return () => {
      disposed = true;
      connectNowRef.current = null;
      if (retryTimer !== null) clearTimeout(retryTimer);
      const socket = socketRef.current;
      socketRef.current = null;
      if (socket) {
        socket.onmessage = socket.onclose = null;
        socket.onerror = () => undefined;
        // Closing a socket that is still connecting makes browsers log an error: let it open.
        if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000, "page left");
        else {
          socket.onopen = null;
          socket.close(1000, "page left");
        }
      }
    };
  }, [url, initialBackoffMs, maxBackoffMs, flush, flushMs]);

  // Watched channels changed: tell the open socket the difference, drop the lines of the others.
  const channelsKey = channels.join(",");
  useEffect(() => {
    const socket = socketRef.current;
    const previous = subscribedRef.current;
    const wanted = channelsKey ? channelsKey.split(",") : [];
    if (sameList(previous, wanted)) return;
    if (socket && socket.readyState === WebSocket.OPEN) {
      const added = wanted.filter((channel) => !previous.includes(channel));
      const removed = previous.filter((channel) => !wanted.includes(channel));
      if (removed.length > 0) socket.send(JSON.stringify({ action: "unsubscribe", channels: removed }));
      if (added.length > 0) socket.send(JSON.stringify({ action: "subscribe", channels: added }));
      subscribedRef.current = wanted;
    }
    setLines((current) => keepChannels(current, wanted));
    setLastError(null);
  }, [channelsKey]);

  useEffect(
    () => () => {
      if (flushTimerRef.current !== null) clearTimeout(flushTimerRef.current);
    },
    [],
  );

  const reconnect = useCallback(() => connectNowRef.current?.(), []);
  const clear = useCallback(() => {
    bufferRef.current = [];
    setLines([]);
  }, []);

  return { status, lines, attempt, retryAt, lastError, reconnect, clear };
}
