// Messages: full-text search and filters (kept in the URL), an infinite virtualized list of
// results with the matches marked, each row opening its context, and exports of the result.
import { useCallback, useMemo, useState } from "react";

import { apiUrl, type QueryParams } from "@/api/client";
import { useApiBase } from "@/api/context";
import { useChannels, useMessagePages } from "@/api/queries";
import type { Message } from "@/api/types";
import { DebouncedInput, TimeRangeInputs, channelFilter } from "@/components/Filters";
import { MessageContextDialog } from "@/components/MessageContextDialog";
import { MessageRow } from "@/components/MessageRow";
import { Empty, ErrorState, Loading } from "@/components/Status";
import { VirtualList } from "@/components/VirtualList";
import { useUrlFilters } from "@/hooks/useUrlFilters";
import { formatNumber, formatTotal } from "@/lib/format";

const KEYS = ["q", "channel", "user", "since", "until", "includeDeleted"] as const;

export function MessagesPage() {
  const [filters, setFilters] = useUrlFilters(KEYS);
  const base = useApiBase();
  const channels = useChannels();
  const [openId, setOpenId] = useState<string | null>(null);

  const params: QueryParams = useMemo(
    () => ({
      q: filters.q,
      channel: filters.channel,
      user: filters.user,
      since: filters.since,
      until: filters.until,
      includeDeleted: filters.includeDeleted === "true" ? "true" : undefined,
    }),
    [filters],
  );
  const pages = useMessagePages(params);
  const messages = useMemo(() => pages.data?.pages.flatMap((page) => page.messages) ?? [], [pages.data]);
  const first = pages.data?.pages[0];
  const exportPath = filters.q ? "/api/messages/search" : "/api/messages";

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const open = useCallback((message: Message) => setOpenId(message.id), []);
  const close = useCallback(() => setOpenId(null), []);
  const filtered = KEYS.some((key) => filters[key] !== "");

  return (
    <section data-testid="page-messages" aria-labelledby="messages-title" className="space-y-3">
      <h1 id="messages-title" className="text-xl font-semibold">
        Messages
      </h1>

      <form
        onSubmit={(event) => event.preventDefault()}
        // <search> is too new for browsers before 2023 (and for jsdom): a form with the role.
        // oxlint-disable-next-line jsx-a11y/prefer-tag-over-role
        role="search"
        className="card grid grid-cols-2 gap-3 lg:grid-cols-6"
        aria-label="Filter messages"
      >
        <DebouncedInput
          className="col-span-2 lg:col-span-2"
          label="Search words"
          type="search"
          data-testid="messages-search"
          placeholder='words, "a phrase", -excluded'
          value={filters.q}
          onCommit={(q) => setFilters({ q })}
        />
        <DebouncedInput
          label="Channel"
          list="known-channels"
          placeholder="any"
          data-testid="messages-channel"
          value={filters.channel}
          onCommit={(channel) => setFilters({ channel: channelFilter(channel) })}
        />
        <DebouncedInput
          label="User"
          placeholder="login or id:123"
          data-testid="messages-user"
          value={filters.user}
          onCommit={(user) => setFilters({ user })}
        />
        <TimeRangeInputs testIdPrefix="messages" since={filters.since} until={filters.until} onCommit={setFilters} />
        <datalist id="known-channels">
          {(channels.data?.channels ?? []).map((channel) => (
            <option key={channel.id} value={channel.name}>
              {channel.name}
            </option>
          ))}
        </datalist>
        <div className="col-span-2 flex flex-wrap items-center gap-x-4 gap-y-2 lg:col-span-6">
          <label className="inline-flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              data-testid="messages-include-deleted"
              className="size-4 accent-violet-600"
              checked={filters.includeDeleted === "true"}
              onChange={(event) => setFilters({ includeDeleted: event.target.checked ? "true" : "" })}
            />
            Include deleted messages
          </label>
          {filtered ? (
            <button
              type="button"
              className="btn px-2 py-0.5 text-xs"
              onClick={() =>
                setFilters(
                  { q: "", channel: "", user: "", since: "", until: "", includeDeleted: "" },
                  { replace: false },
                )
              }
            >
              Clear filters
            </button>
          ) : null}
          <span className="ml-auto flex items-center gap-2 text-sm">
            Export:
            <a
              data-testid="export-csv"
              className="link"
              href={apiUrl(base, exportPath, { ...params, format: "csv" })}
              download
            >
              CSV
            </a>
            <a
              data-testid="export-ndjson"
              className="link"
              href={apiUrl(base, exportPath, { ...params, format: "ndjson" })}
              download
            >
              NDJSON
            </a>
          </span>
        </div>
      </form>

      {pages.isError && !pages.data ? (
        <ErrorState error={pages.error} onRetry={() => void pages.refetch()} />
      ) : pages.isPending ? (
        <Loading label={filters.q ? "Searching…" : "Loading messages…"} />
      ) : (
        <>
          <p className="text-sm muted" aria-live="polite" data-testid="messages-total">
            {first ? formatTotal(first.total, first.totalIsExact) : "0"} {first?.total === 1 ? "message" : "messages"}
            {filters.q ? " match" : ""}
            {messages.length > 0 && pages.hasNextPage ? ` · ${formatNumber(messages.length)} loaded` : ""}
            {filters.q ? " · newest first" : ""}
          </p>
          {pages.isFetchNextPageError ? (
            <ErrorState error={pages.error} onRetry={() => void pages.fetchNextPage()} />
          ) : null}
          {messages.length === 0 ? (
            <Empty>
              {filters.q ? "No message matches these words and filters." : "No messages match these filters."}
            </Empty>
          ) : (
            <VirtualList
              testId="messages-results"
              estimateSize={34}
              label="Messages"
              items={messages}
              getKey={(message) => message.id}
              renderItem={(message) => <MessageRow message={message} onOpen={open} />}
              hasMore={Boolean(pages.hasNextPage)}
              loadingMore={pages.isFetchingNextPage}
              onLoadMore={pages.isFetchNextPageError ? undefined : loadMore}
              end="The end of the results."
              className="max-h-[max(20rem,calc(100vh-22rem))]"
            />
          )}
        </>
      )}

      {openId ? <MessageContextDialog messageId={openId} onClose={close} /> : null}
    </section>
  );
}
