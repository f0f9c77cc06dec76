-- People's choices (sigov prefs): per user, mutes (a check, an alert type or a project, until a
-- date or for good), per-alert mail or a daily digest at an hour, all mail off. And the batch a
-- queued mail belongs to: the mails of one daily digest are sent together, as one message.
CREATE TABLE sigov_preference (
  user_id VARCHAR(64) NOT NULL,
  name VARCHAR(191) NOT NULL,
  value VARCHAR(64) NOT NULL,
  until_date DATE NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (user_id, name)
);
ALTER TABLE sigov_outbox ADD COLUMN batch_key VARCHAR(120) NULL;
CREATE INDEX sigov_outbox_batch ON sigov_outbox (batch_key);
