// The api's JSON shapes (docs/api.md): camelCase keys, times as RFC 3339 strings in UTC.

export interface Badge {
  name: string;
  version: string;
}

export interface Emote {
  id: string;
  start: number;
  end: number;
}

/** A matched word of a search: code point offsets into `text`, `end` exclusive. */
export interface Highlight {
  start: number;
  end: number;
}

export interface Message {
  id: string;
  channel: string;
  channelId: string | number | null;
  sentAt: string;
  userId: string | null;
  userLogin: string | null;
  displayName: string | null;
  text: string;
  isAction: boolean;
  badges: Badge[];
  badgeInfo: Badge[];
  emotes: Emote[];
  color: string | null;
  bits: number | null;
  firstMsg: boolean;
  replyParentMsgId: string | null;
  replyParentUserLogin: string | null;
  sourceChannelId: string | null;
  deleted: boolean;
  deletedAt: string | null;
  highlights?: Highlight[] | null;
}

export interface UserNotice {
  id: string;
  channel: string;
  channelId: string | null;
  sentAt: string;
  noticeType: string;
  messageId: string | null;
  userId: string | null;
  userLogin: string | null;
  displayName: string | null;
  text: string | null;
  systemMsg: string | null;
  params: Record<string, string>;
}

export interface ModAction {
  id: string;
  channel: string;
  channelId: string | number | null;
  action: string;
  createdAt: string;
  targetUserId: string | null;
  targetUserLogin: string | null;
  durationSeconds: number | null;
  targetMessageId: string | null;
  messageText: string | null;
  moderatorId: string | null;
  moderatorLogin: string | null;
  reason: string | null;
}

/** Every list answer: the items under one key, then the paging fields. */
export interface PageFields {
  total: number;
  totalIsExact: boolean;
  hasMore: boolean;
  nextCursor: string | null;
}

export interface MessagePage extends PageFields {
  messages: Message[];
}

export interface ModActionPage extends PageFields {
  modActions: ModAction[];
}

export interface MessageContext {
  message: Message;
  before: Message[];
  after: Message[];
}

export interface Channel {
  id: number;
  name: string;
  twitchId: string | null;
  displayName: string | null;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
  firstSeen: string | null;
  lastSeen: string | null;
  messageCount: number;
}

export interface HourBucket {
  start: string;
  messages: number;
  usernotices: number;
  modActions: number;
}

export interface Overview {
  messagesTotal: number;
  modActionsTotal: number;
  channelsTotal: number;
  channelsActive: number;
  usersTracked: number;
  messagesLastDay: number;
  modActionsLastDay: number;
  newestMessageAt: string | null;
  ingestLagSeconds: number | null;
  openGaps: number;
  hours: number;
  series: HourBucket[];
  topChannels: { channel: string; messages: number }[];
  /** Who wrote the most of the newest `topUsersSample` messages, all channels together. */
  topUsers: { userId: string; login: string; messages: number }[];
  topUsersSample: number;
}

export interface UserSummary {
  id: string;
  login: string;
  displayName: string | null;
  firstSeen: string;
  lastSeen: string;
  messageCount: number;
  channelMessageCount?: number | null;
  channelLastSeen?: string | null;
}

export interface UserPage extends PageFields {
  users: UserSummary[];
}

export interface UserChannel {
  channel: string;
  channelId: number | string;
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

export interface UserProfile {
  id: string;
  login: string;
  displayName: string | null;
  firstSeen: string;
  lastSeen: string;
  messageCount: number;
  channelCount: number;
  channels: UserChannel[];
  previousLogins: string[];
}

export interface UserStats {
  id: string;
  login: string;
  totalMessages: number;
  channelsActive: number;
  bans: number;
  timeouts: number;
  unbans: number;
  deletions: number;
  lastBanAt: string | null;
  lastTimeoutAt: string | null;
  timeoutSecondsTotal: number;
  channels: UserChannel[];
}

export interface UserNames {
  id: string;
  login: string;
  names: { login: string; firstSeen: string; lastSeen: string; current: boolean }[];
}

export interface ModBucket {
  start: string;
  modActions: number;
  bans: number;
  timeouts: number;
  deletions: number;
}

export interface ModActionStats {
  channel: string | null;
  since: string;
  until: string;
  interval: "hour" | "day";
  total: number;
  byType: Record<string, number>;
  topModerators: { login: string; actions: number }[];
  series: ModBucket[];
}

export interface ApiConfig {
  liveUrl: string;
}
