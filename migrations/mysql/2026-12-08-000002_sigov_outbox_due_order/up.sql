-- A claim picks a lane's due rows in (next_attempt_at, id) order: id is named in the index, as
-- on PostgreSQL, where it is needed for the index to give that order (InnoDB's secondary
-- entries end with the primary key already, so the plan does not change here).
ALTER TABLE sigov_outbox
  DROP KEY sigov_outbox_due,
  ADD KEY sigov_outbox_due (channel, state, next_attempt_at, id);
