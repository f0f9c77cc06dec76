DROP INDEX sigov_ledger_check_date_key;
CREATE INDEX sigov_ledger_check_date ON sigov_alert_ledger (check_name, business_date);
