import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, useLocation } from "react-router";
import { describe, expect, it } from "vitest";

import { splitList, useUrlFilters } from "./useUrlFilters";

const KEYS = ["q", "channel", "includeDeleted"] as const;

function setup(url: string) {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MemoryRouter initialEntries={[url]}>{children}</MemoryRouter>
  );
  return renderHook(
    () => {
      const [filters, setFilters] = useUrlFilters(KEYS);
      const location = useLocation();
      return { filters, setFilters, search: location.search };
    },
    { wrapper },
  );
}

describe("useUrlFilters", () => {
  it("reads the filters from the URL, empty when absent", () => {
    const { result } = setup("/messages?q=good%20game&channel=forsen&other=1");
    expect(result.current.filters).toEqual({ q: "good game", channel: "forsen", includeDeleted: "" });
  });

  it("merges a change into the URL and keeps the other parameters", () => {
    const { result } = setup("/messages?q=hello&other=1");
    act(() => result.current.setFilters({ channel: "xqc", includeDeleted: "true" }));
    const params = new URLSearchParams(result.current.search);
    expect(Object.fromEntries(params)).toEqual({ q: "hello", other: "1", channel: "xqc", includeDeleted: "true" });
    expect(result.current.filters.channel).toBe("xqc");
  });

  it("removes a filter set to empty", () => {
    const { result } = setup("/messages?q=hello&channel=forsen");
    act(() => result.current.setFilters({ q: "" }));
    expect(result.current.search).toBe("?channel=forsen");
    expect(result.current.filters.q).toBe("");
  });

  it("gives the same object while the URL does not change, so queries do not refetch", () => {
    const { result, rerender } = setup("/messages?q=hello");
    const first = result.current.filters;
    rerender();
    expect(result.current.filters).toBe(first);
  });
});

describe("splitList", () => {
  it("splits a comma list and drops empty items", () => {
    expect(splitList("a, b,,c ")).toEqual(["a", "b", "c"]);
    expect(splitList("")).toEqual([]);
  });
});
