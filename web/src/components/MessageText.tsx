// A message's text with the search matches inside <mark>.
import { memo } from "react";

import type { Highlight } from "@/api/types";
import { splitHighlights } from "@/lib/highlight";

export const MessageText = memo(function MessageText({
  text,
  highlights,
}: {
  text: string;
  highlights?: Highlight[] | null;
}) {
  const segments = splitHighlights(text, highlights);
  return (
    <>
      {segments.map((segment, i) =>
        segment.mark ? <mark key={i}>{segment.text}</mark> : <span key={i}>{segment.text}</span>,
      )}
    </>
  );
});
