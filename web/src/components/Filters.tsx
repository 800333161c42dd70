// Filter inputs that write to the URL: text after 300 ms of stillness (Enter at once), times
// from `datetime-local` inputs read in the viewer's zone and sent as UTC.
import { type InputHTMLAttributes, useEffect, useId, useRef, useState } from "react";

import { useDebounced } from "@/hooks/useDebounced";
import { fromLocalInput, timeZoneLabel, toLocalInput } from "@/lib/format";

export const DEBOUNCE_MS = 300;

/**
 * A text box bound to a URL value: what is typed reaches `onCommit` after `DEBOUNCE_MS` of
 * stillness, Enter commits at once, Escape empties it; a change of `value` from elsewhere (the
 * back button, a link) replaces what is shown.
 */
export function DebouncedInput({
  value,
  onCommit,
  label,
  hideLabel = false,
  className = "",
  ...rest
}: {
  value: string;
  onCommit: (value: string) => void;
  label: string;
  hideLabel?: boolean;
} & Omit<InputHTMLAttributes<HTMLInputElement>, "value" | "onChange">) {
  const id = useId();
  const [text, setText] = useState(value);
  const settled = useDebounced(text, DEBOUNCE_MS);
  const written = useRef(value);

  useEffect(() => {
    if (value !== written.current) {
      written.current = value;
      setText(value);
    }
  }, [value]);

  useEffect(() => {
    const next = settled.trim();
    if (next !== written.current) {
      written.current = next;
      onCommit(next);
    }
    // Commit only when the settled text changes, not when the callback's identity does.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [settled]);

  return (
    <div className={`min-w-0 ${className}`}>
      <label htmlFor={id} className={hideLabel ? "sr-only" : "label"}>
        {label}
      </label>
      <input
        id={id}
        className="input"
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            const next = text.trim();
            written.current = next;
            onCommit(next);
          } else if (event.key === "Escape" && text) {
            event.preventDefault();
            setText("");
          }
        }}
        autoComplete="off"
        spellCheck={false}
        {...rest}
      />
    </div>
  );
}

/** A time bound (`since`/`until`) as a local date and time; the URL keeps the UTC instant. */
export function TimeInput({
  value,
  onCommit,
  label,
  testId,
}: {
  value: string;
  onCommit: (value: string) => void;
  label: string;
  testId?: string;
}) {
  const id = useId();
  return (
    <div className="min-w-0">
      <label htmlFor={id} className="label" title={`Local time, ${timeZoneLabel()}`}>
        {label}
      </label>
      <input
        id={id}
        data-testid={testId}
        type="datetime-local"
        className="input"
        value={toLocalInput(value)}
        onChange={(event) => onCommit(fromLocalInput(event.target.value))}
      />
    </div>
  );
}

/** The `since`/`until` pair of a filter form, with test ids `<prefix>-since` and `<prefix>-until`. */
export function TimeRangeInputs({
  since,
  until,
  onCommit,
  testIdPrefix,
}: {
  since: string;
  until: string;
  onCommit: (bounds: { since?: string; until?: string }) => void;
  testIdPrefix: string;
}) {
  return (
    <>
      <TimeInput
        label="Since"
        testId={`${testIdPrefix}-since`}
        value={since}
        onCommit={(value) => onCommit({ since: value })}
      />
      <TimeInput
        label="Until"
        testId={`${testIdPrefix}-until`}
        value={until}
        onCommit={(value) => onCommit({ until: value })}
      />
    </>
  );
}

/** A channel as typed into a filter ("#Forsen") as the api's login ("forsen"). */
export function channelFilter(typed: string): string {
  return typed.replace(/^#/, "").toLowerCase();
}
