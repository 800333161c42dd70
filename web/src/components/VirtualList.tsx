// A long list that renders only the rows on screen (@tanstack/react-virtual), measures each
// row's real height, and asks for the next page when the end comes near: 10,000 loaded rows
// keep a few dozen in the DOM.
import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useEffect, useRef } from "react";

/** Room for the "Loading more" / "Load more" / end line under the rows. */
const FOOTER_PX = 56;

interface Props<T> {
  items: readonly T[];
  getKey: (item: T, index: number) => string;
  renderItem: (item: T, index: number) => ReactNode;
  /** Accessible name of the scrolling region. */
  label: string;
  testId?: string;
  estimateSize?: number;
  hasMore?: boolean;
  loadingMore?: boolean;
  onLoadMore?: () => void;
  /** Rows from the end at which the next page is asked for. */
  threshold?: number;
  /** Largest height of the scrolling region (Tailwind classes); a short list is as tall as its rows. */
  className?: string;
  /** Shown after the last row when nothing more is coming. */
  end?: ReactNode;
}

export function VirtualList<T>({
  items,
  getKey,
  renderItem,
  label,
  testId,
  estimateSize = 44,
  hasMore = false,
  loadingMore = false,
  onLoadMore,
  threshold = 30,
  className = "max-h-[70vh]",
  end,
}: Props<T>) {
  const parentRef = useRef<HTMLElement>(null);
  // The virtualizer is a mutable instance by design; this app does not use the React Compiler.
  // oxlint-disable-next-line react/incompatible-library
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => parentRef.current,
    estimateSize: () => estimateSize,
    overscan: 8,
    getItemKey: (index) => {
      const item = items[index];
      return item === undefined ? index : getKey(item, index);
    },
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.length > 0 ? (rows[rows.length - 1]?.index ?? -1) : -1;

  useEffect(() => {
    if (!onLoadMore || !hasMore || loadingMore) return;
    if (lastIndex >= items.length - 1 - threshold) onLoadMore();
  }, [lastIndex, items.length, hasMore, loadingMore, onLoadMore, threshold]);

  return (
    <section
      ref={parentRef}
      data-testid={testId}
      aria-label={label}
      // A scrolling region must take keyboard focus so arrow keys and Page Down scroll it.
      // oxlint-disable-next-line jsx-a11y/no-noninteractive-tabindex
      tabIndex={0}
      className={`overflow-y-auto overscroll-contain rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900 ${className}`}
      // As tall as the rows and the footer, capped by `className`: strict containment needs a
      // definite height, and keeps a row's layout from touching the rest of the page.
      style={{ contain: "strict", height: virtualizer.getTotalSize() + FOOTER_PX }}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: "relative", width: "100%" }}>
        <ul
          className="m-0 list-none p-0"
          style={{
            position: "absolute",
            top: 0,
            left: 0,
            width: "100%",
            transform: `translateY(${rows[0]?.start ?? 0}px)`,
          }}
        >
          {rows.map((row) => {
            const item = items[row.index];
            return item === undefined ? null : (
              <li key={row.key} data-index={row.index} ref={virtualizer.measureElement}>
                {renderItem(item, row.index)}
              </li>
            );
          })}
        </ul>
      </div>
      {loadingMore ? (
        <output data-testid="loading-more" className="block px-3 py-3 text-center text-sm muted">
          Loading more…
        </output>
      ) : hasMore ? (
        onLoadMore ? (
          <div className="px-3 py-3 text-center">
            <button type="button" className="btn" onClick={onLoadMore}>
              Load more
            </button>
          </div>
        ) : null
      ) : items.length > 0 && end ? (
        <p className="px-3 py-3 text-center text-sm muted">{end}</p>
      ) : null}
    </section>
  );
}
