// User: who they are (names over time), how much they wrote and where, what moderators did to
// them, and every message they wrote, newest first, page by page.
import { useCallback, useMemo, useState } from "react";
import { Link, useParams } from "react-router";

import { apiUrl } from "@/api/client";
import { useApiBase } from "@/api/context";
import { useUserMessages, useUserModActions, useUserNames, useUserProfile, useUserStats } from "@/api/queries";
import type { Message } from "@/api/types";
import { LazyChart } from "@/charts/LazyChart";
import { Card } from "@/components/Card";
import { MessageContextDialog } from "@/components/MessageContextDialog";
import { MessageRow } from "@/components/MessageRow";
import { ModActionRow } from "@/components/ModActionRow";
import { Empty, ErrorState, Loading, QueryState } from "@/components/Status";
import { Time } from "@/components/Time";
import { VirtualList } from "@/components/VirtualList";
import { bucketTimes } from "@/lib/buckets";
import { formatDuration, formatNumber, formatTotal } from "@/lib/format";
import { summarizeSeries } from "@/lib/summary";

function Timeline({ login }: { login: string }) {
  const pages = useUserMessages(login);
  const [openId, setOpenId] = useState<string | null>(null);
  const messages = useMemo(() => pages.data?.pages.flatMap((page) => page.messages) ?? [], [pages.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const open = useCallback((message: Message) => setOpenId(message.id), []);
  const close = useCallback(() => setOpenId(null), []);
  const buckets = useMemo(() => bucketTimes(messages.map((message) => message.sentAt)), [messages]);
  const first = pages.data?.pages[0];
  const chartTitle = `Messages per ${buckets.interval}, from the ${formatNumber(messages.length)} newest loaded`;

  return (
    <>
      <Card title="Message frequency" className="lg:col-span-3">
        {pages.isError && !pages.data ? (
          <ErrorState error={pages.error} onRetry={() => void pages.refetch()} />
        ) : pages.isPending ? (
          <Loading />
        ) : messages.length === 0 ? (
          <div data-testid="user-frequency-chart">
            <Empty>No messages to chart.</Empty>
          </div>
        ) : (
          <>
            <p className="mb-1 text-xs muted">{chartTitle}; scrolling the timeline loads more.</p>
            <LazyChart
              testId="user-frequency-chart"
              label={chartTitle}
              summary={summarizeSeries(chartTitle, buckets.times, buckets.counts)}
              times={buckets.times}
              series={[{ label: "Messages", values: buckets.counts, color: "#8b5cf6" }]}
              height={160}
            />
          </>
        )}
      </Card>

      <Card
        title="Messages"
        className="lg:col-span-3"
        actions={
          first ? (
            <span className="text-sm muted">
              {formatTotal(first.total, first.totalIsExact)} {first.total === 1 ? "message" : "messages"} ·{" "}
              {formatNumber(messages.length)} loaded
            </span>
          ) : null
        }
      >
        {pages.isError && !pages.data ? (
          <ErrorState error={pages.error} onRetry={() => void pages.refetch()} />
        ) : pages.isPending ? (
          <Loading label="Loading their messages…" />
        ) : messages.length === 0 ? (
          <div data-testid="user-timeline">
            <Empty>No messages archived.</Empty>
          </div>
        ) : (
          <>
            {pages.isFetchNextPageError ? (
              <ErrorState error={pages.error} onRetry={() => void fetchNextPage()} />
            ) : null}
            <VirtualList
              testId="user-timeline"
              label={`Messages of ${login}`}
              items={messages}
              getKey={(message) => message.id}
              renderItem={(message) => <MessageRow message={message} onOpen={open} />}
              hasMore={Boolean(hasNextPage)}
              loadingMore={isFetchingNextPage}
              onLoadMore={pages.isFetchNextPageError ? undefined : loadMore}
              end="Their first archived message."
              className="max-h-[max(18rem,60vh)]"
            />
          </>
        )}
      </Card>
      {openId ? <MessageContextDialog messageId={openId} onClose={close} /> : null}
    </>
  );
}

export function UserPage() {
  const { username = "" } = useParams();
  const base = useApiBase();
  const profile = useUserProfile(username);
  const stats = useUserStats(username);
  const names = useUserNames(username);
  const actions = useUserModActions(username);

  return (
    <section data-testid="page-user" aria-labelledby="user-title" className="space-y-4">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h1 id="user-title" className="text-xl font-semibold break-all">
          {profile.data?.displayName ?? profile.data?.login ?? username}
        </h1>
        {profile.data ? <span className="text-sm muted">id {profile.data.id}</span> : null}
        {profile.data && profile.data.previousLogins.length > 0 ? (
          <span className="text-sm muted">formerly {profile.data.previousLogins.join(", ")}</span>
        ) : null}
        <span className="ml-auto flex gap-3 text-sm">
          <Link className="link" to={`/messages?user=${encodeURIComponent(username)}`}>
            Search their messages
          </Link>
          <Link className="link" to={`/moderation?target=${encodeURIComponent(username)}`}>
            Moderation
          </Link>
          <a
            className="link"
            href={apiUrl(base, `/api/users/${encodeURIComponent(username)}/messages`, { format: "csv" })}
            download
          >
            Export CSV
          </a>
        </span>
      </div>

      {profile.isError && !profile.data ? (
        <ErrorState error={profile.error} onRetry={() => void profile.refetch()} />
      ) : profile.isPending ? (
        <Loading label="Loading the profile…" />
      ) : profile.data ? (
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
          <Card title="Activity">
            <dl className="grid grid-cols-2 gap-3 text-sm">
              <div>
                <dt className="muted">Messages</dt>
                <dd data-testid="user-total-messages" className="text-2xl font-semibold tabular-nums">
                  {formatNumber(stats.data?.totalMessages ?? profile.data.messageCount)}
                </dd>
              </div>
              <div>
                <dt className="muted">Channels</dt>
                <dd className="text-2xl font-semibold tabular-nums">{formatNumber(profile.data.channelCount)}</dd>
              </div>
              <div className="col-span-2">
                <dt className="muted">First seen</dt>
                <dd data-testid="user-first-seen">
                  <Time value={profile.data.firstSeen} />
                </dd>
              </div>
              <div className="col-span-2">
                <dt className="muted">Last seen</dt>
                <dd data-testid="user-last-seen">
                  <Time value={profile.data.lastSeen} />
                </dd>
              </div>
            </dl>
            {stats.isError ? <ErrorState error={stats.error} onRetry={() => void stats.refetch()} /> : null}
            {stats.data ? (
              <dl
                data-testid="user-moderation-totals"
                className="mt-3 grid grid-cols-2 gap-2 border-t border-zinc-100 pt-3 text-sm dark:border-zinc-800"
              >
                <div>
                  <dt className="muted">Bans</dt>
                  <dd className="tabular-nums">{formatNumber(stats.data.bans)}</dd>
                </div>
                <div>
                  <dt className="muted">Timeouts</dt>
                  <dd className="tabular-nums">
                    {formatNumber(stats.data.timeouts)}
                    {stats.data.timeoutSecondsTotal > 0 ? (
                      <span className="muted"> ({formatDuration(stats.data.timeoutSecondsTotal)})</span>
                    ) : null}
                  </dd>
                </div>
                <div>
                  <dt className="muted">Messages deleted</dt>
                  <dd className="tabular-nums">{formatNumber(stats.data.deletions)}</dd>
                </div>
                <div>
                  <dt className="muted">Unbans</dt>
                  <dd className="tabular-nums">{formatNumber(stats.data.unbans)}</dd>
                </div>
              </dl>
            ) : null}
          </Card>

          <Card title="Channels">
            {profile.data.channels.length === 0 ? (
              <div data-testid="user-channels">
                <Empty>No channel yet.</Empty>
              </div>
            ) : (
              <ol data-testid="user-channels" className="space-y-1 text-sm">
                {profile.data.channels.map((channel) => (
                  <li key={channel.channel} className="flex justify-between gap-2">
                    <Link
                      className="link truncate"
                      to={`/messages?channel=${encodeURIComponent(channel.channel)}&user=${encodeURIComponent(username)}`}
                    >
                      #{channel.channel}
                    </Link>
                    <span className="tabular-nums muted">{formatNumber(channel.messages)}</span>
                  </li>
                ))}
              </ol>
            )}
          </Card>

          <Card title="Names">
            <QueryState query={names}>
              {(data) => (
                <ol data-testid="user-names" className="space-y-1.5 text-sm">
                  {data.names.length === 0 ? (
                    <li>
                      <span className="font-medium">{profile.data?.login ?? data.login}</span>
                      <span className="block text-xs muted">No other name recorded.</span>
                    </li>
                  ) : null}
                  {data.names.map((name) => (
                    <li key={name.login}>
                      <span className="font-medium">{name.login}</span>
                      {name.current ? (
                        <span className="ml-2 rounded bg-emerald-100 px-1.5 text-xs text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200">
                          current
                        </span>
                      ) : null}
                      <span className="block text-xs muted">
                        <Time value={name.firstSeen} /> – <Time value={name.lastSeen} />
                      </span>
                    </li>
                  ))}
                </ol>
              )}
            </QueryState>
          </Card>

          <Card
            title="Moderation received"
            className="lg:col-span-3"
            actions={
              actions.data ? (
                <span className="text-sm muted">
                  {formatTotal(actions.data.total, actions.data.totalIsExact)} actions
                </span>
              ) : null
            }
          >
            <QueryState query={actions}>
              {(data) =>
                data.modActions.length === 0 ? (
                  <div data-testid="user-mod-actions">
                    <Empty>No moderation against them.</Empty>
                  </div>
                ) : (
                  <>
                    <ul data-testid="user-mod-actions" className="-mx-3 max-h-80 overflow-y-auto">
                      {data.modActions.map((action) => (
                        <li key={action.id}>
                          <ModActionRow action={action} />
                        </li>
                      ))}
                    </ul>
                    {data.hasMore ? (
                      <Link
                        className="link mt-2 inline-block text-sm"
                        to={`/moderation?target=${encodeURIComponent(username)}`}
                      >
                        All of them on the Moderation page
                      </Link>
                    ) : null}
                  </>
                )
              }
            </QueryState>
          </Card>

          <Timeline login={username} />
        </div>
      ) : null}
    </section>
  );
}
