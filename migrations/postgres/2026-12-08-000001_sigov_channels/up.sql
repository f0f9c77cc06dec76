-- Deliveries to a chat or webhook channel (`[channels.NAME]`) share the outbox with mail: the
-- channel's name, or '' for mail. Each delivery claims its own lane, so the due index leads with it.
ALTER TABLE sigov_outbox ADD COLUMN channel VARCHAR(64) NOT NULL DEFAULT '';
DROP INDEX sigov_outbox_due;
CREATE INDEX sigov_outbox_due ON sigov_outbox (channel, state, next_attempt_at);
