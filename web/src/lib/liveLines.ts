// The lines of the live view as a pure function of the events received: moderation marks the
// lines it affects (a ban or timeout greys the target's lines, a delete marks its message, a
// clear greys the channel), and only the newest `max` lines are kept.
import type { Message, ModAction, UserNotice } from "@/api/types";

export type LiveEvent =
  | { type: "message"; data: Message }
  | { type: "usernotice"; data: UserNotice }
  | { type: "mod_action"; data: ModAction }
  | { type: "delete"; data: ModAction };

export type Moderation = "ban" | "timeout" | "clear";

export interface MessageLine {
  kind: "message";
  key: string;
  channel: string;
  data: Message;
  /** When a moderator deleted it (a later `delete` frame), else null. */
  deletedAt: string | null;
  /** The ban, timeout or clear that hit its author (or the whole chat) afterwards. */
  moderated: Moderation | null;
}

export interface NoticeLine {
  kind: "usernotice";
  key: string;
  channel: string;
  data: UserNotice;
}

export interface ModActionLine {
  kind: "mod_action";
  key: string;
  channel: string;
  data: ModAction;
}

/** A line of the feed itself, such as "connection lost": events may be missing around it. */
export interface SystemLine {
  kind: "system";
  key: string;
  channel: "";
  text: string;
  at: string;
}

export type LiveLine = MessageLine | NoticeLine | ModActionLine | SystemLine;

export const DEFAULT_MAX_LINES = 500;

function targets(line: MessageLine, action: ModAction): boolean {
  if (line.channel !== action.channel) return false;
  if (action.targetUserId && line.data.userId) return action.targetUserId === line.data.userId;
  return Boolean(action.targetUserLogin) && action.targetUserLogin === line.data.userLogin;
}

function mark(lines: LiveLine[], action: ModAction): void {
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (line?.kind !== "message") continue;
    if (action.action === "delete") {
      if (action.targetMessageId && line.data.id === action.targetMessageId) {
        lines[i] = { ...line, deletedAt: action.createdAt };
      }
    } else if (action.action === "ban" || action.action === "timeout") {
      // A timeout after a ban does not make the ban look milder.
      if (targets(line, action) && line.moderated !== "ban") lines[i] = { ...line, moderated: action.action };
    } else if (action.action === "clear") {
      if (line.channel === action.channel && line.moderated === null) lines[i] = { ...line, moderated: "clear" };
    }
  }
}

/** `lines` with `events` applied in order, the oldest dropped beyond `max`; never mutates `lines`. */
export function applyEvents(
  lines: readonly LiveLine[],
  events: readonly LiveEvent[],
  max = DEFAULT_MAX_LINES,
): LiveLine[] {
  if (events.length === 0) return lines as LiveLine[];
  const next = lines.slice();
  const seen = new Set(next.map((line) => line.key));
  for (const event of events) {
    const key = `${event.type}:${event.data.id}`;
    if (seen.has(key)) continue; // the same event twice (a redelivery) is shown once
    seen.add(key);
    switch (event.type) {
      case "message":
        next.push({
          kind: "message",
          key,
          channel: event.data.channel,
          data: event.data,
          deletedAt: null,
          moderated: null,
        });
        break;
      case "usernotice":
        next.push({ kind: "usernotice", key, channel: event.data.channel, data: event.data });
        break;
      case "mod_action":
      case "delete":
        mark(next, event.data);
        next.push({ kind: "mod_action", key, channel: event.data.channel, data: event.data });
        break;
    }
  }
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Lines of the channels still watched (system lines stay). */
export function keepChannels(lines: readonly LiveLine[], channels: readonly string[]): LiveLine[] {
  const watched = new Set(channels);
  return lines.filter((line) => line.kind === "system" || watched.has(line.channel));
}

/** `event` if a parsed frame is an event the view shows, else null. */
export function asLiveEvent(frame: unknown): LiveEvent | null {
  if (typeof frame !== "object" || frame === null) return null;
  const { type, data } = frame as { type?: unknown; data?: unknown };
  if (typeof data !== "object" || data === null || typeof (data as { id?: unknown }).id !== "string") return null;
  if (type === "message" || type === "usernotice" || type === "mod_action" || type === "delete") {
    return { type, data } as LiveEvent;
  }
  return null;
}
