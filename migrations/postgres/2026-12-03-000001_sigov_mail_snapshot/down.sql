-- Mails written with a snapshot get it back into their own payload before it goes.
UPDATE sigov_outbox o SET payload = (s.body::jsonb || o.payload::jsonb)::text
  FROM sigov_mail_snapshot s WHERE s.id = o.snapshot_id;
DROP INDEX sigov_outbox_snapshot;
ALTER TABLE sigov_outbox DROP COLUMN snapshot_id;
DROP TABLE sigov_mail_snapshot;
