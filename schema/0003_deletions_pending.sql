-- 0003: CLEARMSGs waiting for their message, instead of advisory locks between writers.
--
-- A deletion and its message can sit in two batches committing at the same time (two store
-- connections of one writer, or two replicas): neither sees the other, so the message would stay
-- undeleted. 0001's writers settled this after each commit with an exclusive advisory lock on the
-- channel's bucket that waited for every batch holding it; new batches queued behind that lock,
-- which cost about a fifth of the writer's throughput (docs/performance.md). Now a batch records
-- the deletions whose message no committed row held in this table, in the same transaction as
-- the moderation action, and every later batch (or the writer's sweep when the stream is quiet)
-- applies the ones whose message has appeared since and drops them, claiming them with
-- FOR UPDATE SKIP LOCKED so that two batches never wait on each other. A row whose message never
-- comes (deleted before the archive joined the channel) is dropped after ten minutes: by then
-- every batch that was open with it has ended (STORE_TIMEOUT_S), and a message stored later
-- finds its deletion in mod_actions as it is inserted.

SET LOCAL lock_timeout = '10s';

CREATE TABLE deletions_pending (
    message_id text COLLATE "C" PRIMARY KEY,
    deleted_at timestamptz NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE deletions_pending IS
    'CLEARMSGs whose message no committed row held when their batch was stored; re-applied by '
    'later batches, dropped once applied or ten minutes old (ADR 0008). Usually empty or tiny.';
COMMENT ON COLUMN deletions_pending.deleted_at IS 'Time of the CLEARMSG: the message''s deleted_at.';
COMMENT ON COLUMN deletions_pending.queued_at IS 'Server time of the batch that queued it.';
