ALTER TABLE sigov_outbox
  DROP KEY sigov_outbox_batch,
  DROP COLUMN batch_key;
DROP TABLE sigov_preference;
