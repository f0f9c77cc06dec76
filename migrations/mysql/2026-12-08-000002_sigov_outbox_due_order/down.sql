ALTER TABLE sigov_outbox
  DROP KEY sigov_outbox_due,
  ADD KEY sigov_outbox_due (channel, state, next_attempt_at);
