-- A check reads its ledger keys a business day at a time, in key order from the last key read:
-- the key ends the (check_name, business_date) index.
ALTER TABLE sigov_alert_ledger DROP KEY sigov_ledger_check_date,
  ADD KEY sigov_ledger_check_date_key (check_name, business_date, alert_key);
