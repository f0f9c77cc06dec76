ALTER TABLE sigov_alert_ledger DROP COLUMN arm;
DROP TABLE sigov_ack;
