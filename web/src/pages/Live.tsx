// Live: chat of the watched channels as it happens, moderation marked on the lines it hits.
import { type FormEvent, memo, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router";

import { useChannels, useConfig } from "@/api/queries";
import { ErrorState } from "@/components/Status";
import { ActionBadge, describeAction } from "@/components/ModActionRow";
import { Time } from "@/components/Time";
import { UserLink } from "@/components/UserLink";
import { type LiveStatus, useLiveFeed } from "@/hooks/useLiveFeed";
import { splitList, useUrlFilters } from "@/hooks/useUrlFilters";
import { timeZoneLabel } from "@/lib/format";
import type { LiveLine } from "@/lib/liveLines";
import { resolveLiveUrl } from "@/lib/liveUrl";

const LOGIN = /^[a-z0-9_]{1,25}$/;
const MAX_LINES = 500;
/** Within this many pixels of the bottom counts as "at the bottom": auto-scroll goes on. */
const BOTTOM_SLACK = 48;

/** "#Forsen " -> "forsen"; null if it cannot be a Twitch login. */
export function normalizeLogin(raw: string): string | null {
  const login = raw.trim().replace(/^#/, "").toLowerCase();
  return LOGIN.test(login) ? login : null;
}

function StatusBadge({
  status,
  retryAt,
  attempt,
  onReconnect,
}: {
  status: LiveStatus;
  retryAt: number | null;
  attempt: number;
  onReconnect: () => void;
}) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (status !== "disconnected") return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [status]);
  const seconds = retryAt ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : null;
  const dot = { connected: "bg-emerald-500", connecting: "bg-amber-500 animate-pulse", disconnected: "bg-red-500" }[
    status
  ];
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm">
      <output
        data-testid="live-status"
        data-state={status}
        aria-live="polite"
        className="inline-flex items-center gap-2 font-medium"
      >
        <span aria-hidden="true" className={`size-2.5 rounded-full ${dot}`} />
        {status === "connected"
          ? "Connected"
          : status === "connecting"
            ? "Connecting…"
            : "Disconnected from the live feed"}
      </output>
      {status === "disconnected" ? (
        <>
          <span className="muted">
            {seconds !== null && seconds > 0 ? `retrying in ${seconds} s` : "retrying…"}
            {attempt > 1 ? ` (attempt ${attempt})` : ""}
          </span>
          <button type="button" className="btn px-2 py-0.5 text-xs" onClick={onReconnect}>
            Reconnect now
          </button>
        </>
      ) : null}
    </div>
  );
}

const Line = memo(function Line({ line, showChannel }: { line: LiveLine; showChannel: boolean }) {
  const channel = showChannel && line.channel ? <span className="muted">#{line.channel} </span> : null;
  switch (line.kind) {
    case "message": {
      const message = line.data;
      const deleted = line.deletedAt !== null;
      return (
        <div
          data-testid="live-line"
          data-message-id={message.id}
          data-deleted={deleted ? "true" : undefined}
          data-moderated={line.moderated ?? undefined}
          className={`px-3 py-0.5 break-words ${line.moderated ? "opacity-45" : ""} ${deleted ? "bg-red-50/70 dark:bg-red-950/30" : ""}`}
        >
          <Time value={message.sentAt} format="time" className="mr-2 text-xs tabular-nums muted" />
          {channel}
          <UserLink login={message.userLogin} displayName={message.displayName} color={message.color} />
          <span className="muted">{message.isAction ? " " : ": "}</span>
          <span
            className={`${message.isAction ? "italic" : ""} ${deleted ? "line-through decoration-red-500/70" : ""}`}
          >
            {message.text}
          </span>
          {deleted ? (
            <span className="ml-2 rounded bg-red-100 px-1 text-xs font-medium text-red-800 dark:bg-red-950 dark:text-red-200">
              deleted
            </span>
          ) : null}
          {line.moderated ? (
            <span className="ml-2 text-xs muted">({line.moderated === "clear" ? "chat cleared" : line.moderated})</span>
          ) : null}
        </div>
      );
    }
    case "usernotice":
      return (
        <div
          data-testid="live-notice"
          className="border-l-4 border-violet-400 bg-violet-50 px-3 py-1 text-sm dark:bg-violet-950/40"
        >
          <Time value={line.data.sentAt} format="time" className="mr-2 text-xs tabular-nums muted" />
          {channel}
          <span className="font-medium">{line.data.systemMsg ?? line.data.noticeType}</span>
          {line.data.text ? <span> — {line.data.text}</span> : null}
        </div>
      );
    case "mod_action":
      return (
        <div
          data-testid="live-mod-action"
          data-action={line.data.action}
          data-target={line.data.targetUserLogin ?? ""}
          className="border-l-4 border-red-500 bg-red-50 px-3 py-1 text-sm dark:bg-red-950/40"
        >
          <Time value={line.data.createdAt} format="time" className="mr-2 text-xs tabular-nums muted" />
          {channel}
          <ActionBadge action={line.data.action} /> <span>{describeAction(line.data)}</span>
          {line.data.reason ? <span className="muted"> — {line.data.reason}</span> : null}
        </div>
      );
    case "system":
      return (
        <div data-testid="live-system" className="px-3 py-1 text-center text-xs muted">
          {line.text}
        </div>
      );
  }
});

export function LivePage() {
  const [filters, setFilters] = useUrlFilters(["channels"] as const);
  const channels = useMemo(
    () => [
      ...new Set(
        splitList(filters.channels)
          .map(normalizeLogin)
          .filter((c): c is string => c !== null),
      ),
    ],
    [filters.channels],
  );
  const config = useConfig();
  const known = useChannels();
  const url = useMemo(() => {
    if (config.isPending) return null;
    // Without /api/config (error) the usual layout is tried, so the feed can work while the
    // REST api is down.
    return resolveLiveUrl(config.data?.liveUrl ?? "", window.location);
  }, [config.isPending, config.data]);
  const feed = useLiveFeed({ url, channels, maxLines: MAX_LINES });

  const setChannels = useCallback(
    (next: string[]) => setFilters({ channels: next.join(",") }, { replace: false }),
    [setFilters],
  );

  const inputId = useId();
  const [draft, setDraft] = useState("");
  const [draftError, setDraftError] = useState<string | null>(null);
  const add = (event?: FormEvent) => {
    event?.preventDefault();
    const names = splitList(draft);
    const logins = names.map(normalizeLogin);
    const bad = names.filter((_, i) => logins[i] === null);
    if (bad.length > 0 || names.length === 0) {
      setDraftError(
        names.length === 0
          ? "Type a channel login."
          : `Not a Twitch login: ${bad.join(", ")} (1 to 25 of a-z, 0-9 and _).`,
      );
      return;
    }
    setDraftError(null);
    setDraft("");
    setChannels([...new Set([...channels, ...(logins as string[])])]);
  };

  // Auto-scroll: follow the newest line unless the reader scrolled up; "Resume" brings it back.
  const scrollRef = useRef<HTMLDivElement>(null);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const [unseen, setUnseen] = useState(0);
  const lastCount = useRef(0);
  const scrollToEnd = useCallback(() => {
    const box = scrollRef.current;
    if (box) box.scrollTop = box.scrollHeight;
  }, []);
  useLayoutEffect(() => {
    const newest = feed.lines[feed.lines.length - 1]?.key;
    if (pausedRef.current) {
      if (newest !== undefined) setUnseen((count) => count + Math.max(1, feed.lines.length - lastCount.current));
    } else {
      scrollToEnd();
    }
    lastCount.current = feed.lines.length;
  }, [feed.lines, scrollToEnd]);
  const onScroll = () => {
    const box = scrollRef.current;
    if (!box) return;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK;
    if (atBottom !== !pausedRef.current) {
      pausedRef.current = !atBottom;
      setPaused(!atBottom);
      if (atBottom) setUnseen(0);
    }
  };
  const resume = () => {
    pausedRef.current = false;
    setPaused(false);
    setUnseen(0);
    scrollToEnd();
  };

  const suggestions = (known.data?.channels ?? []).filter((c) => c.isActive && !channels.includes(c.name)).slice(0, 12);

  return (
    <section data-testid="page-live" aria-labelledby="live-title" className="space-y-3">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 id="live-title" className="text-xl font-semibold">
          Live chat
        </h1>
        <StatusBadge status={feed.status} retryAt={feed.retryAt} attempt={feed.attempt} onReconnect={feed.reconnect} />
      </div>

      {config.isError ? <ErrorState error={config.error} onRetry={() => void config.refetch()} /> : null}

      <div className="card space-y-2">
        <form onSubmit={add} className="flex flex-wrap items-end gap-2">
          <div className="min-w-48 flex-1">
            <label htmlFor={inputId} className="label">
              Watch a channel (login, Enter to add)
            </label>
            <input
              id={inputId}
              data-testid="live-channel-input"
              className="input"
              value={draft}
              placeholder="e.g. forsen"
              autoComplete="off"
              spellCheck={false}
              aria-invalid={draftError ? true : undefined}
              aria-describedby={draftError ? `${inputId}-error` : undefined}
              onChange={(event) => setDraft(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === "Escape") setDraft("");
              }}
            />
          </div>
          <button type="submit" className="btn btn-primary">
            Add
          </button>
          {feed.lines.length > 0 ? (
            <button type="button" className="btn" onClick={feed.clear}>
              Clear view
            </button>
          ) : null}
        </form>
        {draftError ? (
          <p id={`${inputId}-error`} className="text-sm text-red-700 dark:text-red-400">
            {draftError}
          </p>
        ) : null}
        {feed.lastError ? (
          <p data-testid="live-error" role="alert" className="text-sm text-red-700 dark:text-red-400">
            The live feed refused a request ({feed.lastError.error}): {feed.lastError.detail}
          </p>
        ) : null}
        <ul aria-label="Watched channels" className="flex flex-wrap gap-2">
          {channels.map((channel) => (
            <li
              key={channel}
              data-testid="live-channel-chip"
              data-channel={channel}
              className="inline-flex items-center gap-1 rounded-full bg-violet-100 py-0.5 pl-3 pr-1 text-sm text-violet-900 dark:bg-violet-950 dark:text-violet-100"
            >
              #{channel}
              <button
                type="button"
                aria-label={`Stop watching ${channel}`}
                className="rounded-full px-1.5 hover:bg-violet-200 dark:hover:bg-violet-900"
                onClick={() => setChannels(channels.filter((c) => c !== channel))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        {suggestions.length > 0 ? (
          <p className="flex flex-wrap items-center gap-1.5 text-xs muted">
            Archived channels:
            {suggestions.map((c) => (
              <button
                key={c.id}
                type="button"
                className="btn px-2 py-0.5 text-xs"
                onClick={() => setChannels([...channels, c.name])}
              >
                + {c.name}
              </button>
            ))}
          </p>
        ) : null}
      </div>

      <div className="relative">
        <div
          ref={scrollRef}
          onScroll={onScroll}
          data-testid="live-lines"
          role="log"
          aria-live="off"
          aria-label="Live chat lines"
          // A scrolling region must take keyboard focus so arrow keys and Page Down scroll it.
          // oxlint-disable-next-line jsx-a11y/no-noninteractive-tabindex
          tabIndex={0}
          className="h-[60vh] overflow-y-auto overscroll-contain rounded-lg border border-zinc-200 bg-white py-1 text-sm dark:border-zinc-800 dark:bg-zinc-900"
        >
          {channels.length === 0 ? (
            <p className="p-6 text-center muted">
              Pick a channel to watch above: its chat appears here as it is written.
            </p>
          ) : feed.lines.length === 0 ? (
            <p className="p-6 text-center muted">
              {feed.status === "connected" ? "Waiting for the first message…" : "Connecting to the live feed…"}
            </p>
          ) : (
            feed.lines.map((line) => <Line key={line.key} line={line} showChannel={channels.length > 1} />)
          )}
        </div>
        {paused ? (
          <button
            type="button"
            data-testid="live-resume"
            onClick={resume}
            className="btn btn-primary absolute bottom-3 left-1/2 -translate-x-1/2 shadow-lg"
          >
            Resume auto-scroll{unseen > 0 ? ` (${unseen} new)` : ""}
          </button>
        ) : null}
      </div>
      <p className="text-xs muted">
        The newest {MAX_LINES} lines are kept. Times in {timeZoneLabel()}. Older chat is on the{" "}
        <Link className="link" to={channels.length === 1 ? `/messages?channel=${channels[0]}` : "/messages"}>
          Messages
        </Link>{" "}
        page.
      </p>
    </section>
  );
}
