-- 0001_init: channels, users and their name history, the partitioned message archive, moderation
-- actions, user notices, rollups, coverage gaps and the migration ledger.
--
-- Applied by `twitch-archive migrate` in one transaction. Forward-only: never edit this file once
-- it has been applied anywhere; add 0002_....sql instead (migrate refuses a changed checksum).
-- Why the tables look like this: docs/adr/0005-message-storage.md. A guided tour: docs/schema.md.
--
-- Conventions:
-- * Twitch ids (users, rooms, messages) are text, never numbers: Twitch documents them as opaque
--   strings. Id and login columns use COLLATE "C": byte-order btrees are faster to build and
--   search, and support LIKE 'prefix%' without text_pattern_ops.
-- * Every timestamp is timestamptz. Event times come from tmi-sent-ts (Twitch's clock).
-- * No foreign keys on the hot tables (messages, mod_actions, usernotices, rollups): they would be
--   checked once per row during the writer's COPY + INSERT, and the writer already resolves
--   channel ids itself. Referential integrity is the writer's job, checked by its tests.

-- migrate runs each file in a transaction, so SET LOCAL lasts for this file only. Later files
-- that lock busy tables keep these too: fail fast rather than queue every reader behind a lock.
SET LOCAL lock_timeout = '10s';
SET LOCAL statement_timeout = '15min';

DO $$
BEGIN
    -- Chat is Unicode; SQL_ASCII would store bytes unchecked and LATIN1 would reject most of it.
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the archive needs a UTF8 database, this one is %',
            current_setting('server_encoding');
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- The migration ledger (migrate.py also creates it before reading it, with this same statement).

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE schema_migrations IS
    'One row per applied schema/NNNN_name.sql file; written only by twitch-archive migrate.';
COMMENT ON COLUMN schema_migrations.checksum IS
    'sha256 of the file as applied: migrate refuses to run if an applied file was edited.';

-- ---------------------------------------------------------------------------------------------
-- Shared helper

CREATE FUNCTION archive_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- channels: the desired set (is_active) and every channel ever seen.

CREATE TABLE channels (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text COLLATE "C" NOT NULL UNIQUE
                  CONSTRAINT channels_login_lowercase CHECK (login <> '' AND login = lower(login)),
    twitch_id     text COLLATE "C" UNIQUE,
    display_name  text,
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    first_seen_at timestamptz,
    last_seen_at  timestamptz
);

CREATE TRIGGER channels_touch_updated_at BEFORE UPDATE ON channels
    FOR EACH ROW EXECUTE FUNCTION archive_touch_updated_at();

COMMENT ON TABLE channels IS
    'Every channel the archive knows. The api adds rows by login (twitch_id null until the first '
    'event); writers upsert by twitch_id (room-id) and login, so a renamed channel keeps its id.';
COMMENT ON COLUMN channels.id IS
    'Small surrogate key stored in every hot row (4 bytes instead of a room-id string).';
COMMENT ON COLUMN channels.login IS 'Current lowercase login, without #.';
COMMENT ON COLUMN channels.twitch_id IS 'Twitch room-id; null until the first event from the room.';
COMMENT ON COLUMN channels.is_active IS
    'In the desired set: ingestors join active channels. false = soft-deleted, history kept.';
COMMENT ON COLUMN channels.last_seen_at IS
    'Time of the newest event. Writers may skip the update when it moved by less than a minute, '
    'to keep one hot row per channel from being rewritten by every batch.';

-- ---------------------------------------------------------------------------------------------
-- users and their name history, keyed by Twitch user id so renames never split a history.

CREATE TABLE users (
    id            text COLLATE "C" PRIMARY KEY,
    login         text COLLATE "C" NOT NULL,
    display_name  text,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    message_count bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 90);

-- Not unique: Twitch frees a login after a rename and another account may take it later.
-- C collation makes this btree serve both login = $1 and login LIKE 'pre%' (prefix search).
CREATE INDEX users_login_idx ON users (login);

COMMENT ON TABLE users IS
    'One row per Twitch user id. Writers upsert per batch in id order (avoids deadlocks between '
    'writers). fillfactor 90 leaves room for HOT updates of last_seen_at/message_count.';
COMMENT ON COLUMN users.login IS 'Latest login seen (lowercase). Older ones are in user_names.';
COMMENT ON COLUMN users.message_count IS
    'Messages really inserted (duplicates excluded), kept by the writer so profiles are O(1).';

CREATE TABLE user_names (
    user_id       text COLLATE "C" NOT NULL,
    login         text COLLATE "C" NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, login)
);

CREATE INDEX user_names_login_idx ON user_names (login);

COMMENT ON TABLE user_names IS
    'Every login a user id has had: /api/users/<old name> still finds the person after a rename.';

-- ---------------------------------------------------------------------------------------------
-- messages: the archive itself, partitioned by month of sent_at.

-- Column order is physical: 8-byte, then 4-byte, then 1-byte fields, then variable-length ones,
-- so no alignment padding is wasted on hundreds of millions of rows. Writers name their columns.
CREATE TABLE messages (
    sent_at                 timestamptz NOT NULL,
    deleted_at              timestamptz,
    channel_id              integer NOT NULL,
    bits                    integer,
    is_action               boolean NOT NULL DEFAULT false,
    first_msg               boolean NOT NULL DEFAULT false,
    id                      text COLLATE "C" NOT NULL,
    user_id                 text COLLATE "C",
    user_login              text COLLATE "C",
    display_name            text,
    text                    text NOT NULL,
    color                   text,
    badges                  jsonb NOT NULL DEFAULT '[]',
    badge_info              jsonb NOT NULL DEFAULT '[]',
    emotes                  jsonb NOT NULL DEFAULT '[]',
    reply_parent_msg_id     text COLLATE "C",
    reply_parent_user_login text COLLATE "C",
    source_channel_id       text COLLATE "C",
    -- A unique key on a partitioned table must contain the partition key. Two copies of one line
    -- always carry the same tmi-sent-ts, so (id, sent_at) still drops every duplicate.
    PRIMARY KEY (id, sent_at)
) PARTITION BY RANGE (sent_at);

-- Rows whose month has no partition land here instead of failing the writer's batch.
-- archive_ensure_message_partition() moves them out when their month's partition is created, so
-- in steady state this holds only junk timestamps (tmi-sent-ts 0, negative, or far future).
CREATE TABLE messages_default PARTITION OF messages DEFAULT;

-- Indexes are declared on the parent, so every partition (present and future) gets them. They
-- are ascending on purpose: rows arrive in time order, so new entries land at the right edge of
-- each group (denser pages, cheaper splits); "newest first" is a backward scan of the same index,
-- and keyset pages use row comparisons, e.g.
--   WHERE channel_id = $1 AND (sent_at, id) < ($2, $3) ORDER BY sent_at DESC, id DESC LIMIT 50
CREATE INDEX messages_channel_sent_idx ON messages (channel_id, sent_at, id);
CREATE INDEX messages_user_sent_idx ON messages (user_id, sent_at, id);
-- Unfiltered listings and since/until ranges across all channels (GET /api/messages, no filter).
CREATE INDEX messages_sent_idx ON messages (sent_at, id);
-- Words, not stems: chat mixes languages, names, emotes and slang (see ADR 0005 for why not
-- 'english' or pg_trgm). Queries must repeat the expression exactly:
--   to_tsvector('simple', text) @@ websearch_to_tsquery('simple', $1)
CREATE INDEX messages_text_fts_idx ON messages USING gin (to_tsvector('simple', text));
-- "Deleted messages only": deletions are rare, so this partial index stays tiny.
CREATE INDEX messages_deleted_idx ON messages (channel_id, sent_at, id)
    WHERE deleted_at IS NOT NULL;

COMMENT ON TABLE messages IS
    'Chat messages (PRIVMSG), one row per event id, partitioned by UTC month of sent_at '
    '(messages_yYYYYmMM, plus messages_default). Look a message up by id with a sent_at bound '
    'when one is known (sent_at <= the deleting action''s time) so later partitions are pruned.';
COMMENT ON COLUMN messages.sent_at IS 'tmi-sent-ts: Twitch''s clock, the partition key.';
COMMENT ON COLUMN messages.id IS
    'Event id: Twitch''s message id (what CLEARMSG target-msg-id refers to), else a hash.';
COMMENT ON COLUMN messages.channel_id IS 'channels.id (no foreign key: hot table).';
COMMENT ON COLUMN messages.user_id IS 'Twitch user id (users.id, no foreign key: hot table).';
COMMENT ON COLUMN messages.user_login IS 'Login at the time the message was sent.';
COMMENT ON COLUMN messages.display_name IS 'Display name at the time the message was sent.';
COMMENT ON COLUMN messages.deleted_at IS
    'Time of the CLEARMSG (mod_actions action=''delete'') that removed it; null = not deleted. '
    'Bans and timeouts do not set it: see archive_messages_before_action().';
COMMENT ON COLUMN messages.badges IS '[{"name": ..., "version": ...}], as in the event contract.';
COMMENT ON COLUMN messages.emotes IS
    '[{"id", "start", "end"}]: code-point offsets into text, end inclusive (Twitch''s rule).';
COMMENT ON COLUMN messages.source_channel_id IS
    'Shared chat: the room-id the message was first sent in, when it is not this channel.';

CREATE FUNCTION archive_ensure_message_partition(ts timestamptz) RETURNS regclass
LANGUAGE plpgsql
STRICT
-- Runs as the schema owner: ATTACH PARTITION needs ownership of messages, writers should not.
SECURITY DEFINER
SET search_path FROM CURRENT
-- Partition names and bounds are UTC months whatever the caller's session settings are.
SET TimeZone = 'UTC'
SET DateStyle = 'ISO, YMD'
-- Bounds how long readers can queue behind the ACCESS EXCLUSIVE lock on messages_default.
SET lock_timeout = '2s'
AS $$
DECLARE
    month_utc   timestamp := date_trunc('month', ts AT TIME ZONE 'UTC');
    lower_bound timestamptz := month_utc AT TIME ZONE 'UTC';
    -- Month arithmetic on timestamp (not timestamptz), so the session time zone cannot shift it.
    upper_bound timestamptz := (month_utc + interval '1 month') AT TIME ZONE 'UTC';
    part_name   text := to_char(month_utc, '"messages_y"YYYY"m"MM');
    default_part regclass;
    part        regclass;
    moved       bigint := 0;
BEGIN
    -- Junk timestamps (before any Twitch chat existed, or more than a year ahead) get no
    -- partition of their own: they stay in messages_default.
    IF ts < timestamptz '2000-01-01 00:00:00+00' OR ts >= now() + interval '1 year' THEN
        RETURN NULL;
    END IF;

    -- Fast path without any lock: the partition is normally there already. to_regclass() and
    -- pg_partition_root() read the catalogs as of now, whatever the caller's snapshot is.
    part := to_regclass(part_name);
    IF part IS NOT NULL AND pg_partition_root(part) = 'messages'::regclass THEN
        RETURN part;
    END IF;

    -- One creator at a time (key = 'archpart' as a big-endian int8). Then lock the parent, the
    -- order every query takes; SHARE UPDATE EXCLUSIVE does not block reads or inserts, and taking
    -- a table lock makes this session see catalog changes committed while it waited.
    PERFORM pg_advisory_xact_lock(7021784069237207668);
    LOCK TABLE ONLY messages IN SHARE UPDATE EXCLUSIVE MODE;
    part := to_regclass(part_name);
    IF part IS NOT NULL THEN
        IF pg_partition_root(part) = 'messages'::regclass THEN
            RETURN part;  -- a concurrent caller created it while we waited
        END IF;
        RAISE EXCEPTION 'table % exists but is not a partition of messages', part_name;
    END IF;

    -- ATTACH needs ACCESS EXCLUSIVE on the default partition anyway; holding it from the start
    -- stops new rows of this month from landing there between the move and the attach.
    SELECT NULLIF(p.partdefid, 0)::regclass INTO default_part
    FROM pg_partitioned_table AS p WHERE p.partrelid = 'messages'::regclass;
    IF default_part IS NOT NULL THEN
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', default_part);
    END IF;

    -- Built standalone and attached afterwards, instead of CREATE TABLE ... PARTITION OF, which
    -- locks the whole parent ACCESS EXCLUSIVE: ATTACH takes only SHARE UPDATE EXCLUSIVE on
    -- messages, so writers keep inserting into other months meanwhile.
    EXECUTE format(
        'CREATE TABLE %I (LIKE messages INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
        'INCLUDING STORAGE INCLUDING COMPRESSION)', part_name);
    IF default_part IS NOT NULL THEN
        EXECUTE format(
            'WITH moved AS (DELETE FROM %s WHERE sent_at >= %L AND sent_at < %L RETURNING *) '
            'INSERT INTO %I SELECT * FROM moved',
            default_part, lower_bound, upper_bound, part_name);
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    -- Creates the parent's indexes (primary key included) on the new table.
    EXECUTE format('ALTER TABLE messages ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        part_name, lower_bound, upper_bound);

    IF moved > 0 THEN
        RAISE NOTICE 'moved % rows from the default partition into %', moved, part_name;
    END IF;
    RETURN part_name::regclass;
END
$$;

COMMENT ON FUNCTION archive_ensure_message_partition(timestamptz) IS
    'Idempotently creates the UTC month partition holding ts and moves that month''s rows out of '
    'messages_default; returns it, or null for a junk ts (before 2000, or over a year ahead). '
    'Safe to call concurrently. Call it in its own short READ COMMITTED transaction, never '
    'inside a batch: the locks it takes when creating live until commit. migrate calls it for '
    'this month and the next; long-running writers should call it for next month periodically '
    '(e.g. hourly) and before inserting a month they have not seen yet.';

-- ---------------------------------------------------------------------------------------------
-- mod_actions: bans, timeouts, clears and deletions (CLEARCHAT, CLEARMSG; EventSub adds more).

CREATE TABLE mod_actions (
    id                text COLLATE "C" PRIMARY KEY,
    created_at        timestamptz NOT NULL,
    channel_id        integer NOT NULL,
    action            text NOT NULL,
    target_user_id    text COLLATE "C",
    target_user_login text COLLATE "C",
    duration_s        integer,
    target_message_id text COLLATE "C",
    message_text      text,
    moderator_id      text COLLATE "C",
    moderator_login   text COLLATE "C",
    reason            text,
    metadata          jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX mod_actions_channel_idx ON mod_actions (channel_id, created_at DESC);
CREATE INDEX mod_actions_target_user_idx ON mod_actions (target_user_id, created_at DESC);
CREATE INDEX mod_actions_target_login_idx ON mod_actions (target_user_login, created_at DESC);
CREATE INDEX mod_actions_action_idx ON mod_actions (action, created_at DESC);
CREATE INDEX mod_actions_moderator_idx ON mod_actions (moderator_login, created_at DESC)
    WHERE moderator_login IS NOT NULL;
CREATE INDEX mod_actions_created_idx ON mod_actions (created_at DESC);
-- The CLEARMSG-before-message contract. The writer applies a deletion in both orders:
--  * action first: inserting a 'delete' action sets messages.deleted_at = created_at where
--    messages.id = target_message_id (no row yet: nothing happens, the action stays recorded);
--  * message later: inserting messages, the writer looks their ids up here
--    (WHERE action = 'delete' AND target_message_id = ANY($ids)) and sets deleted_at at once.
-- Either way the message ends up deleted, whichever event the stream delivered first.
CREATE INDEX mod_actions_target_message_idx ON mod_actions (target_message_id)
    WHERE target_message_id IS NOT NULL;

COMMENT ON TABLE mod_actions IS
    'Moderation actions; id is the event id (a hash for CLEARCHAT/CLEARMSG). A ban or timeout '
    'links to the target''s messages by (channel_id, target_user_id, time): see '
    'archive_messages_before_action().';
COMMENT ON COLUMN mod_actions.action IS
    'ban, timeout, clear (whole chat), delete (one message); other sources add unban, untimeout...';
COMMENT ON COLUMN mod_actions.created_at IS 'tmi-sent-ts of the action.';
COMMENT ON COLUMN mod_actions.moderator_login IS 'Null for IRC-sourced actions: IRC never says.';

CREATE FUNCTION archive_messages_before_action(action_id text, n integer DEFAULT 50)
RETURNS SETOF messages
LANGUAGE sql STABLE
AS $$
    SELECT m.*
    FROM mod_actions AS a
    CROSS JOIN LATERAL (
        SELECT *
        FROM messages AS msg
        WHERE msg.user_id = a.target_user_id
          AND msg.channel_id = a.channel_id
          AND msg.sent_at <= a.created_at
        ORDER BY msg.sent_at DESC, msg.id DESC
        LIMIT n
    ) AS m
    WHERE a.id = action_id
$$;

COMMENT ON FUNCTION archive_messages_before_action(text, integer) IS
    'The target''s last n messages in the channel up to a ban/timeout (newest first; ORDER BY '
    'sent_at DESC, id DESC when the order matters), via messages_user_sent_idx.';

-- ---------------------------------------------------------------------------------------------
-- usernotices: subs, resubs, gifts, raids, announcements, ...

CREATE TABLE usernotices (
    id           text COLLATE "C" PRIMARY KEY,
    sent_at      timestamptz NOT NULL,
    channel_id   integer NOT NULL,
    notice_type  text NOT NULL,
    message_id   text COLLATE "C",
    user_id      text COLLATE "C",
    user_login   text COLLATE "C",
    display_name text,
    text         text,
    system_msg   text,
    params       jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX usernotices_channel_idx ON usernotices (channel_id, sent_at DESC);
CREATE INDEX usernotices_user_idx ON usernotices (user_id, sent_at DESC);
CREATE INDEX usernotices_type_idx ON usernotices (notice_type, sent_at DESC);

COMMENT ON TABLE usernotices IS 'USERNOTICE events; unknown notice types are kept verbatim.';
COMMENT ON COLUMN usernotices.notice_type IS 'The msg-id tag: sub, resub, subgift, raid, ...';
COMMENT ON COLUMN usernotices.params IS 'Every msg-param-* tag, prefix removed, key case kept.';

-- ---------------------------------------------------------------------------------------------
-- Rollups, maintained by the writer in the same transaction as the rows they count, so stats
-- never scan messages. Writers add only rows really inserted (not duplicates), with
--   INSERT ... ON CONFLICT (...) DO UPDATE SET x = t.x + EXCLUDED.x
-- in primary-key order, so two writers never deadlock on each other's rows.

CREATE TABLE channel_hourly_stats (
    channel_id  integer NOT NULL,
    hour        timestamptz NOT NULL
                CONSTRAINT channel_hourly_stats_hour_whole
                CHECK (extract(epoch FROM hour) % 3600 = 0),
    messages    bigint NOT NULL DEFAULT 0,
    usernotices bigint NOT NULL DEFAULT 0,
    mod_actions bigint NOT NULL DEFAULT 0,
    deletions   bigint NOT NULL DEFAULT 0,
    bans        bigint NOT NULL DEFAULT 0,
    timeouts    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, hour)
) WITH (fillfactor = 70);

COMMENT ON TABLE channel_hourly_stats IS
    'Per channel and UTC hour counts of inserted events: channel stats, messages per hour and '
    'totals come from here. fillfactor 70: rows are rewritten by every batch (HOT updates).';
COMMENT ON COLUMN channel_hourly_stats.hour IS 'date_trunc(''hour'', event time), a whole hour.';
COMMENT ON COLUMN channel_hourly_stats.deletions IS 'mod_actions with action = ''delete''.';

CREATE TABLE user_channel_stats (
    user_id       text COLLATE "C" NOT NULL,
    channel_id    integer NOT NULL,
    messages      bigint NOT NULL DEFAULT 0,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

-- Users of a channel, most recently active first ("GET /api/users?channel=").
CREATE INDEX user_channel_stats_channel_idx ON user_channel_stats (channel_id, last_seen_at DESC);

COMMENT ON TABLE user_channel_stats IS
    'Per user and channel message counts: the channels a user is active in, a channel''s chatters.';

-- ---------------------------------------------------------------------------------------------
-- coverage_gaps: times the archive was not listening (connection lost, channel not joined).

CREATE TABLE coverage_gaps (
    id         text COLLATE "C" PRIMARY KEY,
    channel_id integer NOT NULL,
    channel    text COLLATE "C" NOT NULL,
    gap_from   timestamptz NOT NULL,
    gap_to     timestamptz,
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coverage_gaps_ordered CHECK (gap_to IS NULL OR gap_to >= gap_from)
);

CREATE INDEX coverage_gaps_channel_idx ON coverage_gaps (channel_id, gap_from DESC);

COMMENT ON TABLE coverage_gaps IS
    'Intervals with no coverage, recorded from ingestor events (id = event id), so an empty hour '
    'can be told apart from a silent chat.';
COMMENT ON COLUMN coverage_gaps.channel IS 'Channel login at the time of the gap.';
COMMENT ON COLUMN coverage_gaps.gap_to IS 'Null while the gap is still open.';
