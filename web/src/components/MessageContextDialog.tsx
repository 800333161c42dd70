// A message with what was said just before and after it in its channel (what a moderator reads
// before a ban). Escape or the close button closes it and gives focus back.
import { useEffect, useRef } from "react";

import { useMessageContext } from "@/api/queries";

import { MessageRow } from "./MessageRow";
import { QueryState } from "./Status";

export function MessageContextDialog({ messageId, onClose }: { messageId: string; onClose: () => void }) {
  const context = useMessageContext(messageId);
  const closeRef = useRef<HTMLButtonElement>(null);
  const selectedRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      previous?.focus?.({ preventScroll: true });
    };
  }, [onClose]);

  useEffect(() => {
    if (context.data) selectedRef.current?.scrollIntoView?.({ block: "center" });
  }, [context.data]);

  return (
    <div className="fixed inset-0 z-40 flex justify-end">
      <button
        type="button"
        tabIndex={-1}
        aria-label="Close the context"
        className="absolute inset-0 cursor-default bg-black/30"
        onClick={onClose}
      />
      <dialog
        open
        data-testid="message-context"
        aria-modal="true"
        aria-labelledby="context-title"
        className="relative m-0 ml-auto flex h-full max-h-none w-full max-w-2xl flex-col border-0 bg-white p-0 text-inherit shadow-xl dark:bg-zinc-900"
      >
        <div className="flex items-center justify-between border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
          <h2 id="context-title" className="font-semibold">
            Message in context
          </h2>
          <button ref={closeRef} type="button" className="btn" onClick={onClose} aria-label="Close the context">
            Close
          </button>
        </div>
        <div className="flex-1 overflow-y-auto">
          <QueryState query={context} loadingLabel="Loading the messages around it…">
            {(data) => (
              <>
                {data.before.length === 0 ? (
                  <p className="px-3 py-2 text-xs muted">Nothing earlier in the channel.</p>
                ) : null}
                {data.before.map((message) => (
                  <MessageRow key={message.id} message={message} showChannel={false} />
                ))}
                <div ref={selectedRef} data-testid="context-selected" className="border-l-4 border-violet-500">
                  <MessageRow message={data.message} showChannel selected />
                </div>
                {data.after.map((message) => (
                  <MessageRow key={message.id} message={message} showChannel={false} />
                ))}
                {data.after.length === 0 ? <p className="px-3 py-2 text-xs muted">Nothing later yet.</p> : null}
              </>
            )}
          </QueryState>
        </div>
      </dialog>
    </div>
  );
}
