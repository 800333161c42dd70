// Loading, error and empty states: every request shows one of them instead of a blank page.
import type { ReactNode } from "react";

import { describeError } from "@/api/client";

export function Loading({ label = "Loading…", className = "" }: { label?: string; className?: string }) {
  return (
    <output
      data-testid="loading"
      aria-live="polite"
      className={`flex items-center gap-2 py-6 text-sm muted ${className}`}
    >
      <span
        aria-hidden="true"
        className="size-4 animate-spin rounded-full border-2 border-zinc-300 border-t-violet-600 dark:border-zinc-700 dark:border-t-violet-400"
      />
      {label}
    </output>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { title, detail } = describeError(error);
  return (
    <div
      data-testid="error"
      role="alert"
      className="my-3 rounded-lg border border-red-300 bg-red-50 p-4 text-sm text-red-900 dark:border-red-800 dark:bg-red-950/50 dark:text-red-100"
    >
      <p className="font-semibold">{title}</p>
      {detail ? <p className="mt-1 break-words opacity-90">{detail}</p> : null}
      {onRetry ? (
        <button type="button" className="btn mt-3" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="py-6 text-center text-sm muted">{children}</p>;
}

interface QueryLike<T> {
  data: T | undefined;
  error: unknown;
  isPending: boolean;
  isError: boolean;
  refetch: () => unknown;
}

/** `children(data)` once a query has data; its loading or error state before that. */
export function QueryState<T>({
  query,
  children,
  loadingLabel,
}: {
  query: QueryLike<T>;
  children: (data: T) => ReactNode;
  loadingLabel?: string;
}) {
  if (query.isError && query.data === undefined) {
    return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  }
  if (query.isPending || query.data === undefined) return <Loading label={loadingLabel} />;
  return <>{children(query.data)}</>;
}
