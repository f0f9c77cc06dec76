-- The ledger keyed by a 16-byte hash of its key (the first 16 bytes of its SHA-256): every
-- secondary index entry carries the primary key, which was the readable key (up to 191
-- characters) and is now 16 bytes. The readable key stays, unindexed, for `sigov alerts`.
-- The (created_at) index had no reader; the day index ends with the hash (a day's keys are
-- read in hash order from the last one read).
ALTER TABLE sigov_alert_ledger ADD COLUMN key_hash BINARY(16) NULL FIRST;
UPDATE sigov_alert_ledger SET key_hash = UNHEX(LEFT(SHA2(alert_key, 256), 32));
ALTER TABLE sigov_alert_ledger
  MODIFY key_hash BINARY(16) NOT NULL,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (key_hash),
  DROP KEY sigov_ledger_created,
  DROP KEY sigov_ledger_check_date_key,
  ADD KEY sigov_ledger_check_date_hash (check_name, business_date, key_hash);
-- No query reads the outbox by recipient (a digest picks due rows by the due index and sorts
-- them).
ALTER TABLE sigov_outbox DROP KEY sigov_outbox_recipient;
