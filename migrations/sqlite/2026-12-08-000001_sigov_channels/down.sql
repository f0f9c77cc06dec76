DELETE FROM sigov_outbox WHERE channel <> '';
DROP INDEX sigov_outbox_due;
CREATE INDEX sigov_outbox_due ON sigov_outbox (state, next_attempt_at);
ALTER TABLE sigov_outbox DROP COLUMN channel;
