-- Mails written with a snapshot get it back into their own payload before it goes.
UPDATE sigov_outbox SET payload = json_patch(
    (SELECT body FROM sigov_mail_snapshot s WHERE s.id = sigov_outbox.snapshot_id), payload)
  WHERE snapshot_id IS NOT NULL;
DROP INDEX sigov_outbox_snapshot;
ALTER TABLE sigov_outbox DROP COLUMN snapshot_id;
DROP TABLE sigov_mail_snapshot;
