-- The write floor of a first run (scripts/bench-reference.sh, MariaDB): the rows run 1 wrote
-- (alert rows, stage notifications, ledger keys, outbox rows, mail snapshots), written again
-- server-side, one INSERT … SELECT each (autocommit), into empty clones of their tables. Run
-- after run 1, with @alerts and @notifs the highest ids before it. Prints the seconds.
CREATE TABLE floor_alerte LIKE core_alerteprojet;
CREATE TABLE floor_notif LIKE core_notificationetape;
CREATE TABLE floor_ledger LIKE sigov_alert_ledger;
CREATE TABLE floor_outbox LIKE sigov_outbox;
CREATE TABLE floor_snapshot LIKE sigov_mail_snapshot;
SET @t0 = NOW(6);
INSERT INTO floor_alerte SELECT * FROM core_alerteprojet WHERE id > @alerts;
INSERT INTO floor_notif SELECT * FROM core_notificationetape WHERE id > @notifs;
INSERT INTO floor_ledger SELECT * FROM sigov_alert_ledger;
INSERT INTO floor_outbox SELECT * FROM sigov_outbox;
INSERT INTO floor_snapshot SELECT * FROM sigov_mail_snapshot;
SELECT TIMESTAMPDIFF(MICROSECOND, @t0, NOW(6)) / 1e6;
DROP TABLE floor_alerte, floor_notif, floor_ledger, floor_outbox, floor_snapshot;
