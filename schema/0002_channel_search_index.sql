-- 0002: full-text search inside one channel without reading the word's whole month.
--
-- The full-text GIN index of 0001 holds words only. "gg in one channel" then either ANDs a whole
-- month of the word's postings with the channel's rows, or reads the channel's rows newest first
-- and computes to_tsvector on each until enough match: 7-15 ms for a common word in a mid-sized
-- channel of the 10 M-message benchmark, the slowest search there is. A GIN index over
-- (channel_id, words) answers it by intersecting two posting lists.
--
-- It replaces the words-only index rather than joining it: PostgreSQL uses a multicolumn GIN
-- index for conditions on any subset of its columns, so search across all channels reads the same
-- word postings as before, and each row adds one entry (its channel) to the eight or so of its
-- words instead of a second index's worth. btree_gin provides GIN operator classes for plain
-- scalar columns such as channel_id (a trusted contrib extension, shipped with PostgreSQL).
--
-- On an existing archive this builds the index over every partition in one transaction, which
-- blocks inserts meanwhile (about 1 minute per 10 M messages on 2 cores): the writer retries its
-- batches and catches up, nothing is lost, but plan the upgrade for a quiet hour.

SET LOCAL lock_timeout = '10s';
SET LOCAL statement_timeout = '0';
SET LOCAL maintenance_work_mem = '256MB';

CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE INDEX messages_channel_fts_idx ON messages
    USING gin (channel_id, to_tsvector('simple', text));

DROP INDEX messages_text_fts_idx;
