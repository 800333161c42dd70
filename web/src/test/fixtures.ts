// Items in the api's shapes (docs/api.md), for tests.
import type { Message, ModAction, Overview } from "@/api/types";

export function message(overrides: Partial<Message> = {}): Message {
  return {
    id: "m1",
    channel: "forsen",
    channelId: "22484632",
    sentAt: "2026-05-01T12:00:00.000000Z",
    userId: "100",
    userLogin: "viewer",
    displayName: "Viewer",
    text: "hello there",
    isAction: false,
    badges: [],
    badgeInfo: [],
    emotes: [],
    color: null,
    bits: null,
    firstMsg: false,
    replyParentMsgId: null,
    replyParentUserLogin: null,
    sourceChannelId: null,
    deleted: false,
    deletedAt: null,
    highlights: null,
    ...overrides,
  };
}

export function modAction(overrides: Partial<ModAction> = {}): ModAction {
  return {
    id: "a1",
    channel: "forsen",
    channelId: "22484632",
    action: "ban",
    createdAt: "2026-05-01T12:00:05Z",
    targetUserId: "100",
    targetUserLogin: "viewer",
    durationSeconds: null,
    targetMessageId: null,
    messageText: null,
    moderatorId: null,
    moderatorLogin: null,
    reason: null,
    ...overrides,
  };
}

export function overview(overrides: Partial<Overview> = {}): Overview {
  return {
    messagesTotal: 1234567,
    modActionsTotal: 42,
    channelsTotal: 9,
    channelsActive: 8,
    usersTracked: 31415,
    messagesLastDay: 5000,
    modActionsLastDay: 7,
    newestMessageAt: "2026-05-01T12:00:00Z",
    ingestLagSeconds: 2.5,
    openGaps: 1,
    hours: 24,
    series: [
      { start: "2026-05-01T10:00:00Z", messages: 10, usernotices: 0, modActions: 1 },
      { start: "2026-05-01T11:00:00Z", messages: 30, usernotices: 1, modActions: 0 },
    ],
    topChannels: [
      { channel: "forsen", messages: 3000 },
      { channel: "xqc", messages: 2000 },
    ],
    topUsers: [
      { userId: "1001", login: "chatty_cathy", messages: 42 },
      { userId: "1002", login: "lurker_larry", messages: 7 },
    ],
    topUsersSample: 5000,
    ...overrides,
  };
}
