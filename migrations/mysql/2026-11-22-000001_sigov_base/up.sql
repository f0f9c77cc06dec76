-- sigov's own state. Never touches the web application's core_* tables.

-- One row per check run: what ran, where, how it ended, and its counters (JSON object).
CREATE TABLE sigov_run (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  check_name VARCHAR(32) NOT NULL,
  status VARCHAR(16) NOT NULL,
  profile VARCHAR(16) NOT NULL,
  business_date DATE NOT NULL,
  host VARCHAR(255) NOT NULL,
  pid BIGINT NOT NULL,
  version VARCHAR(32) NOT NULL,
  started_at DATETIME(6) NOT NULL,
  heartbeat_at DATETIME(6) NOT NULL,
  finished_at DATETIME(6) NULL,
  exit_code INT NULL,
  counters LONGTEXT NULL,
  error LONGTEXT NULL,
  KEY sigov_run_check_started (check_name, started_at),
  KEY sigov_run_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The alert ledger: one row per decision key. The primary key is what makes an alert unique
-- across retries, crashes, overlapping runs and hosts.
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
  created_at DATETIME(6) NOT NULL,
  KEY sigov_ledger_check_date (check_name, business_date),
  KEY sigov_ledger_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The mail outbox: one row per mail to send, written in the transaction of its alert.
CREATE TABLE sigov_outbox (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  alert_key VARCHAR(191) NOT NULL,
  recipient_id VARCHAR(64) NOT NULL,
  recipient_email VARCHAR(254) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  payload LONGTEXT NOT NULL,
  state VARCHAR(12) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  sent_at DATETIME(6) NULL,
  last_error LONGTEXT NULL,
  run_id BIGINT NULL,
  UNIQUE KEY sigov_outbox_alert_key (alert_key),
  KEY sigov_outbox_due (state, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Leases for the per-check locks shared by every host on this database.
CREATE TABLE sigov_lock (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  holder VARCHAR(255) NOT NULL,
  run_id BIGINT NULL,
  acquired_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Small facts about this installation (for example: created by `sigov demo`).
CREATE TABLE sigov_meta (
  meta_key VARCHAR(64) NOT NULL PRIMARY KEY,
  meta_value LONGTEXT NOT NULL,
  updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
