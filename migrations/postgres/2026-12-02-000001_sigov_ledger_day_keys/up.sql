-- A check reads its ledger keys a business day at a time, in key order from the last key read:
-- the key ends the (check_name, business_date) index.
DROP INDEX sigov_ledger_check_date;
CREATE INDEX sigov_ledger_check_date_key ON sigov_alert_ledger (check_name, business_date, alert_key);
