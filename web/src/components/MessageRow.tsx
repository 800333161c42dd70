// One archived message: when, where, who (a link to the profile), what; deleted ones say when.
import { type KeyboardEvent, memo } from "react";
import { Link } from "react-router";

import type { Message } from "@/api/types";
import { formatDateTime } from "@/lib/format";

import { MessageText } from "./MessageText";
import { Time } from "./Time";
import { UserLink } from "./UserLink";

interface Props {
  message: Message;
  /** Opens the message's context: the row becomes focusable, Enter opens it too. */
  onOpen?: (message: Message) => void;
  showChannel?: boolean;
  selected?: boolean;
  className?: string;
  timeFormat?: "stamp" | "time";
}

export const MessageRow = memo(function MessageRow({
  message,
  onOpen,
  showChannel = true,
  selected = false,
  className = "",
  timeFormat = "stamp",
}: Props) {
  const open = onOpen ? () => onOpen(message) : undefined;
  const onKeyDown = onOpen
    ? (event: KeyboardEvent) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          onOpen(message);
        }
      }
    : undefined;
  return (
    // The row opens its context on click, and on Enter or Space when focused; the links inside
    // (author, channel) stay links.
    // oxlint-disable-next-line jsx-a11y/no-noninteractive-element-interactions
    <article
      data-testid="message-row"
      data-message-id={message.id}
      data-deleted={message.deleted ? "true" : "false"}
      // oxlint-disable-next-line jsx-a11y/no-noninteractive-tabindex
      tabIndex={onOpen ? 0 : undefined}
      aria-label={onOpen ? `Message from ${message.userLogin ?? "unknown"}: open its context` : undefined}
      onClick={open}
      onKeyDown={onKeyDown}
      className={`flex flex-col gap-0.5 border-b border-zinc-100 px-3 py-1.5 text-sm sm:flex-row sm:items-baseline sm:gap-3 dark:border-zinc-800/70 ${
        onOpen ? "cursor-pointer hover:bg-zinc-100/70 dark:hover:bg-zinc-800/40" : ""
      } ${selected ? "bg-violet-50 dark:bg-violet-950/40" : ""} ${className}`}
    >
      <div className="flex min-w-0 shrink-0 items-baseline gap-2 text-xs muted sm:w-56">
        <Time value={message.sentAt} format={timeFormat} className="shrink-0 whitespace-nowrap tabular-nums" />
        {showChannel ? (
          <Link
            to={`/messages?channel=${encodeURIComponent(message.channel)}`}
            className="min-w-0 truncate hover:underline"
            onClick={(event) => event.stopPropagation()}
            onKeyDown={(event) => event.stopPropagation()}
          >
            #{message.channel}
          </Link>
        ) : null}
      </div>
      <p className={`min-w-0 flex-1 break-words ${message.deleted ? "text-zinc-500 dark:text-zinc-500" : ""}`}>
        <UserLink login={message.userLogin} displayName={message.displayName} color={message.color} />
        <span className="muted">{message.isAction ? " " : ": "}</span>
        <span className={message.isAction ? "italic" : undefined}>
          <MessageText text={message.text} highlights={message.highlights} />
        </span>
        {message.deleted ? (
          <span className="ml-2 inline-block rounded bg-red-100 px-1.5 text-xs font-medium text-red-800 dark:bg-red-950 dark:text-red-200">
            deleted{message.deletedAt ? ` ${formatDateTime(message.deletedAt)}` : ""}
          </span>
        ) : null}
      </p>
    </article>
  );
});
