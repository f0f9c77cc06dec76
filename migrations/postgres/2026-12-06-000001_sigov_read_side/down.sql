DROP INDEX sigov_outbox_origin;
ALTER TABLE sigov_outbox DROP COLUMN origin_key;
DROP INDEX sigov_ledger_alert;
