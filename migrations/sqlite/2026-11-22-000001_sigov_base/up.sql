-- sigov's own state. Never touches the web application's core_* tables.
-- Dates are ISO text (YYYY-MM-DD) and datetimes 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, as Django does.

CREATE TABLE sigov_run (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  check_name VARCHAR(32) NOT NULL,
  status VARCHAR(16) NOT NULL,
  profile VARCHAR(16) NOT NULL,
  business_date DATE NOT NULL,
  host VARCHAR(255) NOT NULL,
  pid BIGINT NOT NULL,
  version VARCHAR(32) NOT NULL,
  started_at DATETIME NOT NULL,
  heartbeat_at DATETIME NOT NULL,
  finished_at DATETIME NULL,
  exit_code INTEGER NULL,
  counters TEXT NULL,
  error TEXT NULL
);
CREATE INDEX sigov_run_check_started ON sigov_run (check_name, started_at);
CREATE INDEX sigov_run_status ON sigov_run (status);

CREATE TABLE sigov_alert_ledger (
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
  created_at DATETIME NOT NULL
);
CREATE INDEX sigov_ledger_check_date ON sigov_alert_ledger (check_name, business_date);
CREATE INDEX sigov_ledger_created ON sigov_alert_ledger (created_at);

CREATE TABLE sigov_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_key VARCHAR(191) NOT NULL,
  recipient_id VARCHAR(64) NOT NULL,
  recipient_email VARCHAR(254) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  payload TEXT NOT NULL,
  state VARCHAR(12) NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  sent_at DATETIME NULL,
  last_error TEXT NULL,
  run_id BIGINT NULL
);
CREATE UNIQUE INDEX sigov_outbox_alert_key ON sigov_outbox (alert_key);
CREATE INDEX sigov_outbox_due ON sigov_outbox (state, next_attempt_at);

CREATE TABLE sigov_lock (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  holder VARCHAR(255) NOT NULL,
  run_id BIGINT NULL,
  acquired_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL
);

CREATE TABLE sigov_meta (
  meta_key VARCHAR(64) NOT NULL PRIMARY KEY,
  meta_value TEXT NOT NULL,
  updated_at DATETIME NOT NULL
);
