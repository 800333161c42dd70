// Filters live in the URL query, so a filtered page can be bookmarked, shared and reloaded.
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";

export type Filters<K extends string> = Record<K, string>;

/**
 * The `keys` of the URL query as strings ("" when absent), and a setter that merges a patch
 * into the query: empty values are removed, other parameters are kept. `replace` (the default)
 * rewrites the history entry, so typing does not fill the back button.
 */
export function useUrlFilters<K extends string>(
  keys: readonly K[],
): [Filters<K>, (patch: Partial<Filters<K>>, options?: { replace?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  // The same object while the values of `keys` stay the same, so queries keyed on it hold still.
  const signature = JSON.stringify(Object.fromEntries(keys.map((key) => [key, params.get(key) ?? ""])));
  const filters = useMemo(() => JSON.parse(signature) as Filters<K>, [signature]);
  const update = useCallback(
    (patch: Partial<Filters<K>>, options: { replace?: boolean } = {}) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(patch) as [string, string | undefined][]) {
            if (value === undefined || value === "") next.delete(key);
            else next.set(key, value);
          }
          return next;
        },
        { replace: options.replace ?? true },
      );
    },
    [setParams],
  );
  return [filters, update];
}

/** A comma-separated URL value as a list: "a,b" -> ["a", "b"]. */
export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}
