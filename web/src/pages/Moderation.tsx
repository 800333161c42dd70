// Moderation: every action filtered by type, channel, moderator, target and time (in the URL),
// as a timeline grouped by day, with the counts and the busiest moderators beside it.
import { useCallback, useId, useMemo } from "react";

import type { QueryParams } from "@/api/client";
import { useModActionPages, useModStats } from "@/api/queries";
import type { ModAction } from "@/api/types";
import { LazyChart } from "@/charts/LazyChart";
import { Card } from "@/components/Card";
import { DebouncedInput, TimeRangeInputs, channelFilter } from "@/components/Filters";
import { ActionBadge, ModActionRow } from "@/components/ModActionRow";
import { Empty, ErrorState, Loading, QueryState } from "@/components/Status";
import { VirtualList } from "@/components/VirtualList";
import { useUrlFilters } from "@/hooks/useUrlFilters";
import { formatDateTime, formatNumber, formatTotal } from "@/lib/format";
import { summarizeSeries } from "@/lib/summary";

const KEYS = ["type", "channel", "moderator", "target", "since", "until"] as const;
const TYPES = ["ban", "timeout", "delete", "clear", "unban", "untimeout"];

type TimelineItem = { kind: "day"; key: string; label: string } | { kind: "action"; key: string; action: ModAction };

/** Actions with a heading before the first action of each local day. */
export function withDayHeadings(actions: readonly ModAction[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  let day = "";
  for (const action of actions) {
    const date = new Date(action.createdAt);
    const label = date.toLocaleDateString(undefined, {
      weekday: "short",
      year: "numeric",
      month: "long",
      day: "numeric",
    });
    if (label !== day) {
      day = label;
      items.push({ kind: "day", key: `day:${label}`, label });
    }
    items.push({ kind: "action", key: action.id, action });
  }
  return items;
}

function Stats({ stats }: { stats: ReturnType<typeof useModStats> }) {
  return (
    <Card title="Statistics" testId="mod-stats" className="lg:col-span-1">
      <QueryState query={stats}>
        {(data) => {
          const times = data.series.map((bucket) => bucket.start);
          const title = `Moderation per ${data.interval}`;
          return (
            <div className="space-y-3 text-sm">
              <p className="muted">
                {formatDateTime(data.since)} – {formatDateTime(data.until)}
                {data.channel ? ` in #${data.channel}` : " in every channel"}
              </p>
              <p>
                <span data-testid="mod-stats-total" className="text-2xl font-semibold tabular-nums">
                  {formatNumber(data.total)}
                </span>{" "}
                actions
              </p>
              <ul className="flex flex-wrap gap-2" aria-label="By type">
                {Object.entries(data.byType)
                  .toSorted((a, b) => b[1] - a[1])
                  .map(([type, count]) => (
                    <li key={type} className="flex items-center gap-1">
                      <ActionBadge action={type} /> <span className="tabular-nums">{formatNumber(count)}</span>
                    </li>
                  ))}
              </ul>
              <div>
                <h3 className="mb-1 font-medium">Top moderators</h3>
                {data.topModerators.length === 0 ? (
                  <p className="text-xs muted">Not known: Twitch chat never names the moderator who acted.</p>
                ) : (
                  <ol className="space-y-0.5">
                    {data.topModerators.map((moderator) => (
                      <li key={moderator.login} className="flex justify-between">
                        <span>{moderator.login}</span>
                        <span className="tabular-nums muted">{formatNumber(moderator.actions)}</span>
                      </li>
                    ))}
                  </ol>
                )}
              </div>
              <div>
                <h3 className="mb-1 font-medium">{title}</h3>
                <LazyChart
                  testId="mod-stats-chart"
                  label={title}
                  summary={summarizeSeries(
                    title,
                    times,
                    data.series.map((bucket) => bucket.modActions),
                  )}
                  times={times}
                  bars={false}
                  height={160}
                  series={[
                    { label: "Bans", values: data.series.map((bucket) => bucket.bans), color: "#dc2626" },
                    { label: "Timeouts", values: data.series.map((bucket) => bucket.timeouts), color: "#d97706" },
                    { label: "Deletions", values: data.series.map((bucket) => bucket.deletions), color: "#71717a" },
                  ]}
                />
              </div>
            </div>
          );
        }}
      </QueryState>
    </Card>
  );
}

export function ModerationPage() {
  const [filters, setFilters] = useUrlFilters(KEYS);
  const typeId = useId();
  const listParams: QueryParams = useMemo(() => ({ ...filters }), [filters]);
  const statsParams: QueryParams = useMemo(
    () => ({ channel: filters.channel, since: filters.since, until: filters.until }),
    [filters.channel, filters.since, filters.until],
  );
  const pages = useModActionPages(listParams);
  const stats = useModStats(statsParams);
  // Both failing is the api being down: one message, one Retry for both.
  const down = pages.isError && !pages.data && stats.isError && !stats.data;
  const actions = useMemo(() => pages.data?.pages.flatMap((page) => page.modActions) ?? [], [pages.data]);
  const items = useMemo(() => withDayHeadings(actions), [actions]);
  const first = pages.data?.pages[0];
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const filtered = KEYS.some((key) => filters[key] !== "");

  return (
    <section data-testid="page-moderation" aria-labelledby="moderation-title" className="space-y-3">
      <h1 id="moderation-title" className="text-xl font-semibold">
        Moderation
      </h1>

      <form
        onSubmit={(event) => event.preventDefault()}
        // <search> is too new for browsers before 2023 (and for jsdom): a form with the role.
        // oxlint-disable-next-line jsx-a11y/prefer-tag-over-role
        role="search"
        className="card grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6"
        aria-label="Filter moderation actions"
      >
        <div className="min-w-0">
          <label htmlFor={typeId} className="label">
            Type
          </label>
          <select
            id={typeId}
            data-testid="moderation-type"
            className="input"
            value={filters.type}
            onChange={(event) => setFilters({ type: event.target.value })}
          >
            <option value="">any</option>
            {TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </div>
        <DebouncedInput
          label="Channel"
          placeholder="any"
          data-testid="moderation-channel"
          value={filters.channel}
          onCommit={(channel) => setFilters({ channel: channelFilter(channel) })}
        />
        <DebouncedInput
          label="Moderator"
          placeholder="login"
          data-testid="moderation-moderator"
          value={filters.moderator}
          onCommit={(moderator) => setFilters({ moderator })}
        />
        <DebouncedInput
          label="Target"
          placeholder="login or id:123"
          data-testid="moderation-target"
          value={filters.target}
          onCommit={(target) => setFilters({ target })}
        />
        <TimeRangeInputs testIdPrefix="moderation" since={filters.since} until={filters.until} onCommit={setFilters} />
        {filtered ? (
          <div className="col-span-2 sm:col-span-3 lg:col-span-6">
            <button
              type="button"
              className="btn px-2 py-0.5 text-xs"
              onClick={() =>
                setFilters(
                  { type: "", channel: "", moderator: "", target: "", since: "", until: "" },
                  { replace: false },
                )
              }
            >
              Clear filters
            </button>
          </div>
        ) : null}
      </form>

      {down ? (
        <ErrorState
          error={pages.error}
          onRetry={() => {
            void pages.refetch();
            void stats.refetch();
          }}
        />
      ) : null}
      {down ? null : (
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
          <Card
            title="Timeline"
            className="lg:col-span-2"
            actions={
              first ? (
                <span className="text-sm muted">
                  {formatTotal(first.total, first.totalIsExact)} actions, newest first
                </span>
              ) : null
            }
          >
            {pages.isError && !pages.data ? (
              <ErrorState error={pages.error} onRetry={() => void pages.refetch()} />
            ) : pages.isPending ? (
              <Loading label="Loading moderation actions…" />
            ) : actions.length === 0 ? (
              <div data-testid="mod-timeline">
                <Empty>No moderation action matches these filters.</Empty>
              </div>
            ) : (
              <>
                {pages.isFetchNextPageError ? (
                  <ErrorState error={pages.error} onRetry={() => void fetchNextPage()} />
                ) : null}
                <VirtualList
                  testId="mod-timeline"
                  label="Moderation actions"
                  items={items}
                  getKey={(item) => item.key}
                  estimateSize={40}
                  renderItem={(item) =>
                    item.kind === "day" ? (
                      <h3 className="sticky top-0 bg-zinc-50 px-3 py-1 text-xs font-semibold uppercase tracking-wide muted dark:bg-zinc-950">
                        {item.label}
                      </h3>
                    ) : (
                      <ModActionRow action={item.action} timeFormat="time" />
                    )
                  }
                  hasMore={Boolean(hasNextPage)}
                  loadingMore={isFetchingNextPage}
                  onLoadMore={pages.isFetchNextPageError ? undefined : loadMore}
                  end="The oldest matching action."
                  className="max-h-[max(18rem,65vh)]"
                />
              </>
            )}
          </Card>
          <Stats stats={stats} />
        </div>
      )}
    </section>
  );
}
