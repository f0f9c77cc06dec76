DROP INDEX sigov_outbox_due;
CREATE INDEX sigov_outbox_due ON sigov_outbox (channel, state, next_attempt_at);
