import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { stubLayout } from "@/test/layout";

import { VirtualList } from "./VirtualList";

let restore = () => undefined as void;
beforeEach(() => {
  // 400 px viewport, 40 px rows (pitfall: the virtualizer renders nothing in jsdom without sizes).
  restore = stubLayout();
});
afterEach(() => restore());

const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: `row${i}`, text: `message number ${i}` }));

function renderList(onLoadMore = vi.fn<() => void>(), hasMore = true) {
  render(
    <VirtualList
      testId="list"
      label="Messages"
      items={rows}
      getKey={(row) => row.id}
      renderItem={(row) => <div data-testid="row">{row.text}</div>}
      estimateSize={40}
      hasMore={hasMore}
      onLoadMore={onLoadMore}
    />,
  );
  return onLoadMore;
}

describe("VirtualList", () => {
  it("renders only the rows in view out of 10,000", () => {
    renderList();
    const shown = screen.getAllByTestId("row");
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(40);
    expect(shown[0]).toHaveTextContent("message number 0");
  });

  it("renders the rows at the scroll position and asks for more near the end", () => {
    const onLoadMore = renderList();
    expect(onLoadMore).not.toHaveBeenCalled();
    const list = screen.getByTestId("list");
    list.scrollTop = 9_990 * 40;
    fireEvent.scroll(list);
    const shown = screen.getAllByTestId("row");
    expect(shown.at(-1)).toHaveTextContent("message number 9999");
    expect(shown.length).toBeLessThan(40);
    expect(onLoadMore).toHaveBeenCalled();
  });

  it("asks for nothing when there is no next page", () => {
    const onLoadMore = renderList(vi.fn<() => void>(), false);
    const list = screen.getByTestId("list");
    list.scrollTop = 9_990 * 40;
    fireEvent.scroll(list);
    expect(onLoadMore).not.toHaveBeenCalled();
  });
});
