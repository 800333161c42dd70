// Home: what the archive holds, what is busy now, and whether ingest is healthy.
import { Link } from "react-router";

import { useChannels, useOverview, useRecentModActions } from "@/api/queries";
import type { Overview } from "@/api/types";
import { LazyChart } from "@/charts/LazyChart";
import { Card } from "@/components/Card";
import { ModActionRow } from "@/components/ModActionRow";
import { Empty, ErrorState, Loading, QueryState } from "@/components/Status";
import { Time } from "@/components/Time";
import { UserLink } from "@/components/UserLink";
import { formatDuration, formatNumber } from "@/lib/format";
import { summarizeSeries } from "@/lib/summary";

function Stat({ testId, label, value, note }: { testId: string; label: string; value: number; note?: string }) {
  return (
    <div className="card">
      <dt className="text-sm muted">{label}</dt>
      <dd data-testid={testId} className="mt-1 text-3xl font-semibold tabular-nums">
        {formatNumber(value)}
      </dd>
      {note ? <p className="mt-1 text-xs muted">{note}</p> : null}
    </div>
  );
}

/** How fresh the newest stored message is: a stall shows as a growing delay. */
function lagState(seconds: number | null): { label: string; tone: string } {
  if (seconds === null) return { label: "no messages yet", tone: "text-zinc-500" };
  if (seconds < 60) return { label: "up to date", tone: "text-emerald-700 dark:text-emerald-400" };
  if (seconds < 600) return { label: "behind", tone: "text-amber-700 dark:text-amber-400" };
  return { label: "stalled, or every chat is quiet", tone: "text-red-700 dark:text-red-400" };
}

function ArchiveHealth({ overview }: { overview: Overview }) {
  const times = overview.series.map((bucket) => bucket.start);
  const messages = overview.series.map((bucket) => bucket.messages);
  const lag = lagState(overview.ingestLagSeconds);
  const title = `Messages per hour, last ${overview.hours} hours`;
  return (
    <Card title="Archive health" testId="archive-health" className="lg:col-span-2">
      <dl className="mb-3 grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
        <div>
          <dt className="muted">Ingest delay</dt>
          <dd data-testid="ingest-lag" className="font-medium">
            {overview.ingestLagSeconds === null ? "–" : formatDuration(overview.ingestLagSeconds)}{" "}
            <span className={`text-xs ${lag.tone}`}>({lag.label})</span>
          </dd>
        </div>
        <div>
          <dt className="muted">Newest message</dt>
          <dd className="font-medium">
            <Time value={overview.newestMessageAt} />
          </dd>
        </div>
        <div>
          <dt className="muted">Coverage gaps open</dt>
          <dd
            data-testid="open-gaps"
            className={`font-medium ${overview.openGaps > 0 ? "text-amber-700 dark:text-amber-400" : ""}`}
          >
            {formatNumber(overview.openGaps)}
            <span className="block text-xs font-normal muted">
              {overview.openGaps > 0 ? "channels not being recorded now" : "every channel is recorded"}
            </span>
          </dd>
        </div>
        <div>
          <dt className="muted">Last 24 hours</dt>
          <dd className="font-medium">
            {formatNumber(overview.messagesLastDay)} messages, {formatNumber(overview.modActionsLastDay)} mod actions
          </dd>
        </div>
      </dl>
      <h3 className="mb-1 text-sm font-medium muted">{title}</h3>
      <LazyChart
        testId="messages-per-hour-chart"
        label={title}
        summary={summarizeSeries(title, times, messages)}
        times={times}
        series={[{ label: "Messages", values: messages, color: "#8b5cf6" }]}
        height={180}
      />
    </Card>
  );
}

function TopUsers({ overview }: { overview: Overview }) {
  const users = overview.topUsers;
  return (
    <Card title="Most active chatters" testId="top-users">
      <p className="mb-2 text-xs muted">
        Who wrote the most of the newest {formatNumber(overview.topUsersSample)} messages, all channels.
      </p>
      {users.length === 0 ? (
        <Empty>Nobody has written yet.</Empty>
      ) : (
        <ol className="space-y-1 text-sm">
          {users.map((user) => (
            <li key={user.userId} className="flex justify-between gap-2">
              <UserLink login={user.login} />
              <span className="tabular-nums muted">{formatNumber(user.messages)}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

export function HomePage() {
  const overview = useOverview(24);
  const channels = useChannels();
  const recent = useRecentModActions(10);
  // When the api is down every request fails: say it once, and let Retry ask again for all.
  const down = overview.isError && !overview.data;
  const retryAll = () => {
    void overview.refetch();
    if (channels.isError) void channels.refetch();
    if (recent.isError) void recent.refetch();
  };

  return (
    <section data-testid="page-home" aria-labelledby="home-title" className="space-y-4">
      <h1 id="home-title" className="text-xl font-semibold">
        Overview
      </h1>

      {down ? (
        <ErrorState error={overview.error} onRetry={retryAll} />
      ) : overview.isPending ? (
        <Loading label="Loading the archive's totals…" />
      ) : overview.data ? (
        <dl className="grid grid-cols-1 gap-3 sm:grid-cols-3">
          <Stat
            testId="stat-messages"
            label="Messages archived"
            value={overview.data.messagesTotal}
            note={`${formatNumber(overview.data.messagesLastDay)} in the last 24 hours`}
          />
          <Stat
            testId="stat-channels"
            label="Active channels"
            value={overview.data.channelsActive}
            note={`of ${formatNumber(overview.data.channelsTotal)} channels archived`}
          />
          <Stat
            testId="stat-users"
            label="Users tracked"
            value={overview.data.usersTracked}
            note={`${formatNumber(overview.data.modActionsTotal)} moderation actions recorded`}
          />
        </dl>
      ) : null}

      {down ? null : (
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
          {overview.data ? <ArchiveHealth overview={overview.data} /> : null}

          <Card title="Most active channels, last 24 hours">
            {overview.data ? (
              overview.data.topChannels.length === 0 ? (
                <>
                  <ol data-testid="top-channels" />
                  <Empty>No messages in the last 24 hours.</Empty>
                </>
              ) : (
                <ol data-testid="top-channels" className="space-y-1.5 text-sm">
                  {overview.data.topChannels.map((top) => {
                    const max = overview.data.topChannels[0]?.messages || 1;
                    return (
                      <li key={top.channel} className="relative overflow-hidden rounded">
                        <span
                          aria-hidden="true"
                          className="absolute inset-y-0 left-0 bg-violet-100 dark:bg-violet-950/70"
                          style={{ width: `${Math.max(2, (top.messages / max) * 100)}%` }}
                        />
                        <span className="relative flex items-baseline justify-between gap-2 px-2 py-1">
                          <span className="flex gap-2">
                            <Link className="link" to={`/messages?channel=${encodeURIComponent(top.channel)}`}>
                              #{top.channel}
                            </Link>
                            <Link
                              className="text-xs muted hover:underline"
                              to={`/live?channels=${encodeURIComponent(top.channel)}`}
                            >
                              live
                            </Link>
                          </span>
                          <span className="tabular-nums">{formatNumber(top.messages)}</span>
                        </span>
                      </li>
                    );
                  })}
                </ol>
              )
            ) : overview.isError ? (
              <Empty>Unavailable while the totals cannot be loaded.</Empty>
            ) : (
              <Loading />
            )}
          </Card>

          <Card
            title="Recent moderation"
            className="lg:col-span-2"
            actions={
              <Link className="link text-sm" to="/moderation">
                All actions
              </Link>
            }
          >
            <QueryState query={recent}>
              {(data) =>
                data.modActions.length === 0 ? (
                  <>
                    <ul data-testid="recent-mod-actions" />
                    <Empty>No moderation recorded yet.</Empty>
                  </>
                ) : (
                  <ul data-testid="recent-mod-actions" className="-mx-3">
                    {data.modActions.map((action) => (
                      <li key={action.id}>
                        <ModActionRow action={action} />
                      </li>
                    ))}
                  </ul>
                )
              }
            </QueryState>
          </Card>

          {overview.data ? <TopUsers overview={overview.data} /> : null}

          <Card title="Channels" testId="channels" className={overview.data ? "lg:col-span-3" : ""}>
            <QueryState query={channels}>
              {(data) =>
                data.channels.length === 0 ? (
                  <Empty>No channels yet: add one with POST /api/channels.</Empty>
                ) : (
                  <div className="overflow-x-auto">
                    <table className="w-full text-left text-sm">
                      <thead className="text-xs muted">
                        <tr>
                          <th scope="col" className="py-1 pr-3 font-medium">
                            Channel
                          </th>
                          <th scope="col" className="py-1 pr-3 font-medium">
                            State
                          </th>
                          <th scope="col" className="py-1 pr-3 text-right font-medium">
                            Messages
                          </th>
                          <th scope="col" className="hidden py-1 font-medium sm:table-cell">
                            Last message
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {data.channels
                          .toSorted(
                            (a, b) => Number(b.isActive) - Number(a.isActive) || b.messageCount - a.messageCount,
                          )
                          .map((channel) => (
                            <tr key={channel.id} className="border-t border-zinc-100 dark:border-zinc-800">
                              <td className="py-1 pr-3">
                                <Link className="link" to={`/messages?channel=${encodeURIComponent(channel.name)}`}>
                                  #{channel.name}
                                </Link>
                              </td>
                              <td className="py-1 pr-3">
                                {channel.isActive ? "archiving" : <span className="muted">stopped</span>}
                              </td>
                              <td className="py-1 pr-3 text-right tabular-nums">
                                {formatNumber(channel.messageCount)}
                              </td>
                              <td className="hidden py-1 sm:table-cell">
                                <Time value={channel.lastSeen} />
                              </td>
                            </tr>
                          ))}
                      </tbody>
                    </table>
                  </div>
                )
              }
            </QueryState>
          </Card>
        </div>
      )}
    </section>
  );
}
