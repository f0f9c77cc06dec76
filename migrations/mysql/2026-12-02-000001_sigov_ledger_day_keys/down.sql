ALTER TABLE sigov_alert_ledger DROP KEY sigov_ledger_check_date_key,
  ADD KEY sigov_ledger_check_date (check_name, business_date);
