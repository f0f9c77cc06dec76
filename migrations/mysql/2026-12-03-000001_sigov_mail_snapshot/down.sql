-- Mails written with a snapshot get it back into their own payload before it goes.
UPDATE sigov_outbox o JOIN sigov_mail_snapshot s ON s.id = o.snapshot_id
  SET o.payload = JSON_MERGE_PATCH(s.body, o.payload);
ALTER TABLE sigov_outbox DROP KEY sigov_outbox_snapshot, DROP COLUMN snapshot_id;
DROP TABLE sigov_mail_snapshot;
