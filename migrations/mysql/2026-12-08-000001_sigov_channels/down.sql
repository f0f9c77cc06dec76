DELETE FROM sigov_outbox WHERE channel <> '';
ALTER TABLE sigov_outbox DROP KEY sigov_outbox_due,
  ADD KEY sigov_outbox_due (state, next_attempt_at),
  DROP COLUMN channel;
