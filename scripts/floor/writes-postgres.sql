-- The write floor of a first run (scripts/bench-reference.sh, PostgreSQL): as
-- writes-mysql.sql, with :alerts and :notifs set by psql -v. Prints the seconds.
CREATE TABLE floor_alerte (LIKE core_alerteprojet INCLUDING ALL);
CREATE TABLE floor_notif (LIKE core_notificationetape INCLUDING ALL);
CREATE TABLE floor_ledger (LIKE sigov_alert_ledger INCLUDING ALL);
CREATE TABLE floor_outbox (LIKE sigov_outbox INCLUDING ALL);
CREATE TABLE floor_snapshot (LIKE sigov_mail_snapshot INCLUDING ALL);
SELECT clock_timestamp() AS t0 \gset
INSERT INTO floor_alerte SELECT * FROM core_alerteprojet WHERE id > :alerts;
INSERT INTO floor_notif SELECT * FROM core_notificationetape WHERE id > :notifs;
INSERT INTO floor_ledger SELECT * FROM sigov_alert_ledger;
INSERT INTO floor_outbox SELECT * FROM sigov_outbox;
INSERT INTO floor_snapshot SELECT * FROM sigov_mail_snapshot;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3);
DROP TABLE floor_alerte, floor_notif, floor_ledger, floor_outbox, floor_snapshot;
