-- A claim picks a lane's due rows in (next_attempt_at, id) order: id is named in the index, as
-- on PostgreSQL, where it is needed for the index to give that order (SQLite's entries end with
-- the rowid, which is id, so the plan does not change here).
DROP INDEX sigov_outbox_due;
CREATE INDEX sigov_outbox_due ON sigov_outbox (channel, state, next_attempt_at, id);
