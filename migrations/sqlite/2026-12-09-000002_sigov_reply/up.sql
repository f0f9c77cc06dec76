-- Replies by e-mail (`sigov mail receive`): each message read from the mailbox once, by its
-- Message-ID, with what it asked, what was done, and the confirmation sent back.
CREATE TABLE sigov_reply (
  message_id VARCHAR(191) NOT NULL PRIMARY KEY,
  received_at DATETIME NOT NULL,
  outbox_id BIGINT NULL,
  sender VARCHAR(254) NOT NULL,
  command VARCHAR(32) NOT NULL,
  outcome VARCHAR(200) NOT NULL,
  answer_to VARCHAR(254) NULL,
  answer_subject VARCHAR(300) NULL,
  answer TEXT NULL,
  answered_at DATETIME NULL,
  answer_attempts INT NOT NULL DEFAULT 0
);
