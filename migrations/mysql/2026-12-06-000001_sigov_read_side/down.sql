ALTER TABLE sigov_outbox DROP KEY sigov_outbox_origin, DROP COLUMN origin_key;
ALTER TABLE sigov_alert_ledger DROP KEY sigov_ledger_alert;
