DROP TABLE IF EXISTS sigov_meta;
DROP TABLE IF EXISTS sigov_lock;
DROP TABLE IF EXISTS sigov_outbox;
DROP TABLE IF EXISTS sigov_alert_ledger;
DROP TABLE IF EXISTS sigov_run;
