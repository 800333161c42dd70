// One way to call the api: query strings without empty values, errors as ApiError with the
// api's `{error, detail}` and a sentence a person can act on.

export type QueryValue = string | number | boolean | null | undefined;
export type QueryParams = Record<string, QueryValue>;

/** A failed call: `status` 0 when nothing answered (network down, api stopped). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly retryAfter: number | null;

  constructor(status: number, code: string, detail: string, retryAfter: number | null = null) {
    super(`${status} ${code}: ${detail}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  /** True when asking again may work: nothing answered, the api is unavailable or limiting. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** `?a=1&b=x` from the params that have a value (empty strings, null and false are left out). */
export function buildQuery(params: QueryParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The URL of an api path: `base` is "" on the same origin (production, dev proxy). */
export function apiUrl(base: string, path: string, params: QueryParams = {}): string {
  return `${base}${path}${buildQuery(params)}`;
}

/** GET a JSON body, or throw ApiError. */
export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, "network", error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) {
    let code = `http_${response.status}`;
    let detail = response.statusText;
    try {
      const body = (await response.json()) as { error?: string; detail?: string };
      code = body.error ?? code;
      detail = body.detail ?? detail;
    } catch {
      // Not JSON (a proxy's error page): the status line is all there is.
    }
    const retry = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, code, detail, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return (await response.json()) as T;
}

/** The sentence shown for a failed call. */
export function describeError(error: unknown): { title: string; detail: string } {
  if (!(error instanceof ApiError)) {
    const text = error instanceof Error ? error.message : String(error);
    return { title: "Something went wrong while loading this page.", detail: text };
  }
  if (error.status === 0 || error.status === 502 || error.status === 504) {
    return {
      title: "The archive API is not answering.",
      detail: "Check that the api is running (make run), then retry.",
    };
  }
  if (error.status === 503) {
    return {
      title: "The archive API is not answering: its database or message bus is unavailable.",
      detail: error.detail,
    };
  }
  if (error.status === 429) {
    const wait = error.retryAfter ? ` Retry in ${error.retryAfter} s.` : "";
    return { title: "Too many requests: the archive API is limiting this address.", detail: `${error.detail}${wait}` };
  }
  if (error.status === 404) {
    return { title: "Not found in the archive.", detail: error.detail };
  }
  if (error.status === 400) {
    return { title: "The archive API refused these filters.", detail: error.detail };
  }
  return { title: `The archive API answered with an error (${error.status}).`, detail: error.detail };
}
