// Search highlights are code point offsets (end exclusive): split the text by code points, not
// UTF-16 units, so an emoji before a match does not shift the <mark>.
import type { Highlight } from "@/api/types";

export interface Segment {
  text: string;
  mark: boolean;
}

/** `text` cut into plain and marked pieces, in order; bad or overlapping ranges are clamped. */
export function splitHighlights(text: string, highlights: Highlight[] | null | undefined): Segment[] {
  if (!highlights || highlights.length === 0) return text ? [{ text, mark: false }] : [];
  const points = Array.from(text);
  const ranges = highlights.toSorted((a, b) => a.start - b.start);
  const segments: Segment[] = [];
  let at = 0;
  for (const { start, end } of ranges) {
    const from = Math.max(at, Math.min(start, points.length));
    const to = Math.max(from, Math.min(end, points.length));
    if (from > at) segments.push({ text: points.slice(at, from).join(""), mark: false });
    if (to > from) segments.push({ text: points.slice(from, to).join(""), mark: true });
    at = to;
  }
  if (at < points.length) segments.push({ text: points.slice(at).join(""), mark: false });
  return segments;
}
