// Renders the whole app (or one element) at a URL, against an api base, with a fresh cache.
import { QueryClient } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, useLocation } from "react-router";

import { App } from "@/App";

export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
}

/** The current location, written into the DOM so tests can read the URL. */
export function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}

export function renderApp(url: string, apiBase: string) {
  return render(
    <MemoryRouter initialEntries={[url]}>
      <App client={testQueryClient()} apiBase={apiBase} />
      <LocationProbe />
    </MemoryRouter>,
  );
}

export function renderAt(url: string, element: ReactElement) {
  return render(
    <MemoryRouter initialEntries={[url]}>
      {element}
      <LocationProbe />
    </MemoryRouter>,
  );
}
