CREATE INDEX sigov_outbox_recipient ON sigov_outbox (recipient_email);
CREATE TABLE sigov_alert_ledger_keyed (
  alert_key VARCHAR(191) NOT NULL PRIMARY KEY,
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
);
INSERT INTO sigov_alert_ledger_keyed (alert_key, check_name, alert_type, state, target_table,
  alert_id, entity_id, recipient_id, business_date, run_id, created_at, arm)
  SELECT alert_key, check_name, alert_type, state, target_table, alert_id, entity_id,
    recipient_id, business_date, run_id, created_at, arm
  FROM sigov_alert_ledger;
DROP TABLE sigov_alert_ledger;
ALTER TABLE sigov_alert_ledger_keyed RENAME TO sigov_alert_ledger;
CREATE INDEX sigov_ledger_entity ON sigov_alert_ledger (check_name, entity_id);
CREATE INDEX sigov_ledger_alert ON sigov_alert_ledger (target_table, alert_id);
CREATE INDEX sigov_ledger_check_date_key ON sigov_alert_ledger (check_name, business_date, alert_key);
CREATE INDEX sigov_ledger_created ON sigov_alert_ledger (created_at);
