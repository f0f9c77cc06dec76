-- What a queued mail shows of its alert (check, type, level, title, context, project, stage,
-- time), stored once for the mails of a write batch that show the same, instead of copied
-- into each outbox row; the row keeps what is its own (alert id, recipient, message).
-- A snapshot is sigov's: the web application may delete the alert or change the project
-- before the mail leaves, and the mail still shows what was true when the alert was made.
CREATE TABLE sigov_mail_snapshot (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  body TEXT NOT NULL,
  created_at DATETIME NOT NULL
);
ALTER TABLE sigov_outbox ADD COLUMN snapshot_id BIGINT NULL;
CREATE INDEX sigov_outbox_snapshot ON sigov_outbox (snapshot_id);
