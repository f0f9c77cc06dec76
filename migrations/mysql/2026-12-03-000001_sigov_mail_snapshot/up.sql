-- What a queued mail shows of its alert (check, type, level, title, context, project, stage,
-- time), stored once for the mails of a write batch that show the same, instead of copied
-- into each outbox row; the row keeps what is its own (alert id, recipient, message).
-- A snapshot is sigov's: the web application may delete the alert or change the project
-- before the mail leaves, and the mail still shows what was true when the alert was made.
CREATE TABLE sigov_mail_snapshot (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  body LONGTEXT NOT NULL,
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE sigov_outbox
  ADD COLUMN snapshot_id BIGINT NULL,
  ADD KEY sigov_outbox_snapshot (snapshot_id);
