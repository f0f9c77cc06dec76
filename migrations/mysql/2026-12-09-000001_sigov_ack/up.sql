-- People answer their alerts (sigov ack, sigov snooze, replies by e-mail): an acknowledgement
-- stops the repeats and the escalation of one alert (its check, type and entity) for every
-- recipient until the entity changes; a snooze holds them until a day. The ledger keeps what an
-- alert was raised on (`arm`: its due date, its planned budget) so that a change re-arms it.
CREATE TABLE sigov_ack (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind VARCHAR(16) NOT NULL,
  check_name VARCHAR(64) NOT NULL,
  alert_type VARCHAR(64) NOT NULL,
  entity VARCHAR(191) NOT NULL,
  arm VARCHAR(191) NULL,
  until_date DATE NULL,
  alert_key VARCHAR(191) NOT NULL,
  by_user VARCHAR(150) NOT NULL,
  how VARCHAR(16) NOT NULL,
  note VARCHAR(500) NULL,
  created_at DATETIME(6) NOT NULL,
  ended_at DATETIME(6) NULL,
  end_reason VARCHAR(32) NULL,
  KEY sigov_ack_open (ended_at, check_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE sigov_alert_ledger ADD COLUMN arm VARCHAR(191) NULL;
