// TanStack Query hooks over the api: one per endpoint the pages read, keyed by path and params.
import {
  type InfiniteData,
  type UseInfiniteQueryResult,
  type UseQueryResult,
  useInfiniteQuery,
  useQuery,
} from "@tanstack/react-query";

import { ApiError, apiUrl, getJson, type QueryParams } from "./client";
import { useApiBase } from "./context";
import type {
  ApiConfig,
  Channel,
  MessageContext,
  MessagePage,
  ModAction,
  ModActionPage,
  ModActionStats,
  Overview,
  PageFields,
  UserNames,
  UserProfile,
  UserStats,
} from "./types";

/** Rows per page of the infinite lists: 50 pages reach 10,000 rows. */
export const PAGE_SIZE = 200;

interface QueryOptions {
  enabled?: boolean;
  refetchInterval?: number | false;
}

/** GET `path` with `params` as a query; the key is the URL, so equal filters share a cache entry. */
export function useApiQuery<T>(
  path: string,
  params: QueryParams = {},
  options: QueryOptions = {},
): UseQueryResult<T, Error> {
  const base = useApiBase();
  const url = apiUrl(base, path, params);
  return useQuery<T, Error>({
    queryKey: ["api", url],
    queryFn: ({ signal }) => getJson<T>(url, signal),
    enabled: options.enabled ?? true,
    refetchInterval: options.refetchInterval ?? false,
  });
}

/** Cursor pages of `path`: each page passes the previous page's `nextCursor` back as `cursor`. */
export function useCursorPages<P extends PageFields>(
  path: string,
  params: QueryParams,
  options: QueryOptions = {},
): UseInfiniteQueryResult<InfiniteData<P, string | null>, Error> {
  const base = useApiBase();
  const firstUrl = apiUrl(base, path, { ...params, limit: PAGE_SIZE });
  return useInfiniteQuery<P, Error, InfiniteData<P, string | null>, readonly unknown[], string | null>({
    queryKey: ["pages", firstUrl],
    initialPageParam: null,
    queryFn: ({ pageParam, signal }) =>
      getJson<P>(apiUrl(base, path, { ...params, limit: PAGE_SIZE, cursor: pageParam }), signal),
    getNextPageParam: (last) => (last.hasMore && last.nextCursor ? last.nextCursor : undefined),
    enabled: options.enabled ?? true,
  });
}

export const useOverview = (hours = 24) => useApiQuery<Overview>("/api/stats", { hours }, { refetchInterval: 30_000 });

export const useChannels = () => useApiQuery<{ channels: Channel[] }>("/api/channels");

export const useRecentModActions = (limit = 10) =>
  useApiQuery<{ modActions: ModAction[] }>("/api/mod-actions/recent", { limit }, { refetchInterval: 30_000 });

export const useMessageContext = (id: string | null) =>
  useApiQuery<MessageContext>(
    `/api/messages/${encodeURIComponent(id ?? "")}/context`,
    {},
    {
      enabled: id !== null,
    },
  );

const userPath = (login: string) => `/api/users/${encodeURIComponent(login)}`;

export const useUserProfile = (login: string) => useApiQuery<UserProfile>(userPath(login));
export const useUserStats = (login: string) => useApiQuery<UserStats>(`${userPath(login)}/stats`);
export const useUserNames = (login: string) => useApiQuery<UserNames>(`${userPath(login)}/names`);
export const useUserModActions = (login: string) =>
  useApiQuery<ModActionPage>(`${userPath(login)}/mod-actions`, { limit: 100 });
export const useUserMessages = (login: string) => useCursorPages<MessagePage>(`${userPath(login)}/messages`, {});

export const useModStats = (params: QueryParams) => useApiQuery<ModActionStats>("/api/mod-actions/stats", params);

export const useModActionPages = (params: QueryParams) => useCursorPages<ModActionPage>("/api/mod-actions", params);

/** Messages matching the filters: the search endpoint when there are words, else the listing. */
export const useMessagePages = (params: QueryParams) =>
  useCursorPages<MessagePage>(params.q ? "/api/messages/search" : "/api/messages", params);

/** The live feed's URL from /api/config; an api without that route gets the usual default. */
export function useConfig(): UseQueryResult<ApiConfig, Error> {
  const base = useApiBase();
  return useQuery<ApiConfig, Error>({
    queryKey: ["api", "config", base],
    staleTime: Infinity,
    queryFn: async ({ signal }) => {
      try {
        return await getJson<ApiConfig>(apiUrl(base, "/api/config"), signal);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return { liveUrl: "" };
        throw error;
      }
    },
  });
}
