// One moderation action: when, where, what, against whom (a link to the profile), why.
import { memo } from "react";
import { Link } from "react-router";

import type { ModAction } from "@/api/types";
import { formatDuration } from "@/lib/format";

import { Time } from "./Time";
import { UserLink } from "./UserLink";

const ACTION_STYLES: Record<string, string> = {
  ban: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-200",
  timeout: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200",
  delete: "bg-zinc-200 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200",
  clear: "bg-sky-100 text-sky-900 dark:bg-sky-950 dark:text-sky-200",
  unban: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
  untimeout: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
};

export function ActionBadge({ action }: { action: string }) {
  return (
    <span
      className={`inline-block rounded px-1.5 py-0.5 text-xs font-semibold uppercase tracking-wide ${ACTION_STYLES[action] ?? ACTION_STYLES.delete}`}
    >
      {action}
    </span>
  );
}

/** "timeout 10m of viewer", "ban of viewer", "delete of viewer's message", "clear". */
export function describeAction(action: ModAction): string {
  const target = action.targetUserLogin ?? "someone";
  switch (action.action) {
    case "timeout":
      return `timeout ${formatDuration(action.durationSeconds)} of ${target}`;
    case "delete":
      return `deleted a message of ${target}`;
    case "clear":
      return "chat cleared";
    default:
      return action.targetUserLogin ? `${action.action} of ${target}` : action.action;
  }
}

export const ModActionRow = memo(function ModActionRow({
  action,
  showChannel = true,
  className = "",
  timeFormat = "stamp",
}: {
  action: ModAction;
  showChannel?: boolean;
  className?: string;
  timeFormat?: "stamp" | "time";
}) {
  return (
    <div
      data-testid="mod-action-row"
      data-action={action.action}
      data-target={action.targetUserLogin ?? ""}
      className={`flex flex-col gap-0.5 border-b border-zinc-100 px-3 py-1.5 text-sm sm:flex-row sm:items-baseline sm:gap-3 dark:border-zinc-800/70 ${className}`}
    >
      <div className="flex min-w-0 shrink-0 items-baseline gap-2 text-xs muted sm:w-56">
        <Time value={action.createdAt} format={timeFormat} className="shrink-0 whitespace-nowrap tabular-nums" />
        {showChannel ? (
          <Link
            to={`/moderation?channel=${encodeURIComponent(action.channel)}`}
            className="min-w-0 truncate hover:underline"
          >
            #{action.channel}
          </Link>
        ) : null}
      </div>
      <div className="min-w-0 flex-1 break-words">
        <ActionBadge action={action.action} />{" "}
        {action.targetUserLogin ? <UserLink login={action.targetUserLogin} /> : null}
        {action.action === "timeout" ? (
          <span className="muted"> for {formatDuration(action.durationSeconds)}</span>
        ) : null}
        {action.moderatorLogin ? (
          <span className="muted">
            {" "}
            by <UserLink login={action.moderatorLogin} className="font-normal" />
          </span>
        ) : null}
        {action.reason ? <span className="muted"> — {action.reason}</span> : null}
        {action.messageText ? (
          <q className="ml-1 text-zinc-600 line-through decoration-zinc-400 dark:text-zinc-400">{action.messageText}</q>
        ) : null}
      </div>
    </div>
  );
});
