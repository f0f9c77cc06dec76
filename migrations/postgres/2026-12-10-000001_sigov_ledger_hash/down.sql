CREATE INDEX sigov_outbox_recipient ON sigov_outbox (recipient_email);
DROP INDEX sigov_ledger_check_date_hash;
ALTER TABLE sigov_alert_ledger DROP CONSTRAINT sigov_alert_ledger_pkey;
ALTER TABLE sigov_alert_ledger ADD CONSTRAINT sigov_alert_ledger_pkey PRIMARY KEY (alert_key);
CREATE INDEX sigov_ledger_check_date_key ON sigov_alert_ledger (check_name, business_date, alert_key);
CREATE INDEX sigov_ledger_created ON sigov_alert_ledger (created_at);
ALTER TABLE sigov_alert_ledger DROP CONSTRAINT sigov_ledger_hash_len;
ALTER TABLE sigov_alert_ledger DROP COLUMN key_hash;
