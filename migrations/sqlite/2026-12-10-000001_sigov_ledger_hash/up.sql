-- The ledger keyed by a 16-byte hash of its key (the first 16 bytes of its SHA-256;
-- `sigov_key_hash` is registered by sigov on each connection): a table without rowid, whose
-- secondary index entries carry those 16 bytes instead of the readable key, which stays,
-- unindexed, for `sigov alerts`. The (created_at) index had no reader; the day index ends with
-- the hash (a day's keys are read in hash order from the last one read).
CREATE TABLE sigov_alert_ledger_hashed (
  key_hash BLOB NOT NULL PRIMARY KEY CHECK (length(key_hash) = 16),
  alert_key VARCHAR(191) NOT NULL,
  check_name VARCHAR(32) NOT NULL,
  alert_type VARCHAR(30) NOT NULL,
  state VARCHAR(12) NOT NULL,
  target_table VARCHAR(32) NULL,
  alert_id BIGINT NULL,
  entity_id VARCHAR(64) NOT NULL,
  recipient_id VARCHAR(64) NOT NULL,
  business_date DATE NOT NULL,
  run_id BIGINT NULL,
  created_at DATETIME NOT NULL,
  arm VARCHAR(191) NULL
) WITHOUT ROWID;
INSERT INTO sigov_alert_ledger_hashed (key_hash, alert_key, check_name, alert_type, state,
  target_table, alert_id, entity_id, recipient_id, business_date, run_id, created_at, arm)
  SELECT sigov_key_hash(alert_key), alert_key, check_name, alert_type, state, target_table,
    alert_id, entity_id, recipient_id, business_date, run_id, created_at, arm
  FROM sigov_alert_ledger;
DROP TABLE sigov_alert_ledger;
ALTER TABLE sigov_alert_ledger_hashed RENAME TO sigov_alert_ledger;
CREATE INDEX sigov_ledger_entity ON sigov_alert_ledger (check_name, entity_id);
CREATE INDEX sigov_ledger_alert ON sigov_alert_ledger (target_table, alert_id);
CREATE INDEX sigov_ledger_check_date_hash ON sigov_alert_ledger (check_name, business_date, key_hash);
-- No query reads the outbox by recipient (a digest picks due rows by the due index and sorts
-- them).
DROP INDEX sigov_outbox_recipient;
