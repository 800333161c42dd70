import { describe, expect, it } from "vitest";

import { splitHighlights } from "./highlight";

describe("splitHighlights", () => {
  it("marks the ranges and keeps the text around them", () => {
    expect(splitHighlights("good game everyone", [{ start: 5, end: 9 }])).toEqual([
      { text: "good ", mark: false },
      { text: "game", mark: true },
      { text: " everyone", mark: false },
    ]);
  });

  it("counts code points, so an emoji before a match does not shift it", () => {
    // "😀" is two UTF-16 units but one code point.
    expect(
      splitHighlights("😀 pog 😀 pog", [
        { start: 2, end: 5 },
        { start: 8, end: 11 },
      ]),
    ).toEqual([
      { text: "😀 ", mark: false },
      { text: "pog", mark: true },
      { text: " 😀 ", mark: false },
      { text: "pog", mark: true },
    ]);
  });

  it("clamps ranges past the end and ignores overlaps", () => {
    expect(
      splitHighlights("abc", [
        { start: 1, end: 99 },
        { start: 0, end: 2 },
      ]),
    ).toEqual([
      { text: "ab", mark: true },
      { text: "c", mark: true },
    ]);
  });

  it("returns the whole text unmarked without highlights", () => {
    expect(splitHighlights("plain", null)).toEqual([{ text: "plain", mark: false }]);
    expect(splitHighlights("", [])).toEqual([]);
  });
});
