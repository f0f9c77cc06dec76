#!/usr/bin/env bash
# Benchmark: webhook deliveries by `sigov mail flush` with a large outbox, to a receiver that
# answers at once (scripts/http-sink.py: it checks each signature and answers 200; sigov's own
# ceiling, not a service's). A webhook channel with `group = "alert"` (one message per alert):
# a 5,000-project demo run (`check all --no-mail`) queues its messages, which are copied until the
# channel's lane holds SIGOV_BENCH_QUEUE rows (default 300,000; the copies differ only by their
# key), then SIGOV_BENCH_MESSAGES of them (default 30,000) are delivered. On SQLite, a throwaway
# MariaDB and a throwaway PostgreSQL, both with their default durability.
#
# The floor, timed on the same server in the same run: the same rows read once (their ids and
# bodies, one SELECT), the same rows marked sent server-side (one UPDATE), and the same number of
# signed posts of one of sigov's bodies over one kept-alive connection by a minimal client. The
# ratio is sigov's seconds over the floor's. Prints a Markdown table.
#   SIGOV_BENCH_QUEUE=300000 SIGOV_BENCH_MESSAGES=30000 bash scripts/bench-channels.sh
set -euo pipefail
cd "$(dirname "$0")/.."
queue="${SIGOV_BENCH_QUEUE:-300000}"
messages="${SIGOV_BENCH_MESSAGES:-30000}"
backends="${SIGOV_BENCH_BACKENDS:-sqlite mysql postgres}"
date_arg="2026-11-22"
secret="bench-signing-key"

cargo build --release --locked >&2
sigov="$PWD/target/release/sigov"
export THROWAWAY_MARIADB_DEFAULTS=1 THROWAWAY_POSTGRES_DEFAULTS=1
# shellcheck source=scripts/mariadb-throwaway.sh
. scripts/mariadb-throwaway.sh
# shellcheck source=scripts/postgres-throwaway.sh
. scripts/postgres-throwaway.sh
work=$(mktemp -d /tmp/sigov-bench-channels.XXXXXX)
sink_pid=""
cleanup() {
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
  case " $backends " in *" mysql "*) stop_throwaway_mariadb || true ;; esac
  case " $backends " in *" postgres "*) stop_throwaway_postgres || true ;; esac
  rm -rf "$work"
}
trap cleanup EXIT
case " $backends " in *" mysql "*) start_throwaway_mariadb ;; esac
case " $backends " in *" postgres "*) start_throwaway_postgres ;; esac
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

python3 scripts/http-sink.py --secret "$secret" --keep-first "$work/body.json" >"$work/port" 2>"$work/sink.log" &
sink_pid=$!
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
cat >"$work/sigov.toml" <<EOF
[channels.bench]
kind = "webhook"
url = "http://127.0.0.1:$port/hook"
secret = "$secret"
group = "alert"
EOF
chmod 600 "$work/sigov.toml"
export SIGOV_CONFIG="$work/sigov.toml" SIGOV_MAIL_TRANSPORT=""

# sql BACKEND SQL: runs SQL (several statements) and prints the last statement's first column.
sql() {
  case "$1" in
    sqlite) python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1]); cur = None
for s in sys.argv[2].split(";\n"):
    if s.strip(): cur = c.execute(s)
c.commit(); r = cur.fetchone() if cur is not None else None
print(r[0] if r else "")' "$work/bench.db" "$2" ;;
    mysql) mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" -N bench \
      -e "SET sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT'); $2" | tail -n 1 ;;
    postgres) psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$THROWAWAY_PG_SOCKET_DIR" -p "$pg_port" -U postgres -d bench \
      -c "$2" | tail -n 1 ;;
  esac
}
# timed BACKEND SQL: the seconds SQL took, client start included (a few milliseconds).
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  sql "$1" "$2" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "print('%.3f' % ($t1 - $t0))"
}
lane="channel = 'bench'"
copy_sql() {
  echo "INSERT INTO sigov_outbox (channel, alert_key, recipient_id, recipient_email, kind, payload, state, attempts, \
unconfirmed, next_attempt_at, created_at, updated_at, run_id, snapshot_id, batch_key) SELECT channel, \
'~$1' || alert_key, recipient_id, recipient_email, kind, payload, state, attempts, unconfirmed, next_attempt_at, \
created_at, updated_at, run_id, snapshot_id, batch_key FROM sigov_outbox WHERE $lane AND alert_key NOT LIKE '~%';
SELECT COUNT(*) FROM sigov_outbox WHERE $lane"
}
requeue_sql="UPDATE sigov_outbox SET state = 'pending', attempts = 0, sent_at = NULL, message_id = NULL, \
last_response = NULL, claim_token = NULL, claimed_at = NULL WHERE $lane AND state <> 'pending'"

echo "| backend | rows in the lane (outbox) | messages | sigov s | msg/s | peak RSS MB | floor: read s | floor: mark s | floor: post s | floor s | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for backend in $backends; do
  case "$backend" in
    sqlite) url="sqlite://$work/bench.db" ;;
    mysql)
      mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" -e \
        "DROP DATABASE IF EXISTS bench; CREATE DATABASE bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
      url="${THROWAWAY_MYSQL_URL}bench" ;;
    postgres)
      pg_port=$(echo "$THROWAWAY_PG_URL" | sed -E 's|.*:([0-9]+)/$|\1|')
      psql -X -q -h "$THROWAWAY_PG_SOCKET_DIR" -p "$pg_port" -U postgres -d postgres \
        -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench OWNER sigov"
      url="${THROWAWAY_PG_URL}bench" ;;
  esac
  "$sigov" demo --db "$url" --scale 5000 --date "$date_arg" --no-check --format json >/dev/null
  "$sigov" --database-url "$url" check all --date "$date_arg" --no-mail --format json >/dev/null
  rows=$(sql "$backend" "SELECT COUNT(*) FROM sigov_outbox WHERE $lane")
  [ "$rows" -gt 0 ] || { echo "no channel row was queued on $backend" >&2; exit 1; }
  i=0
  while [ "$rows" -lt "$queue" ]; do
    i=$((i + 1))
    rows=$(sql "$backend" "$(copy_sql "$i")")
  done
  total=$(sql "$backend" "SELECT COUNT(*) FROM sigov_outbox")
  [ "$backend" = postgres ] && sql "$backend" "VACUUM ANALYZE sigov_outbox" >/dev/null
  [ "$backend" = mysql ] && sql "$backend" "ANALYZE TABLE sigov_outbox" >/dev/null

  # sigov: the oldest `messages` rows of the lane, one message each.
  read -r secs mb code < <(measure "$work/flush.txt" "$sigov" --database-url "$url" mail flush --limit "$messages")
  succeeded "mail flush on $backend" "$code"
  sent=$(sql "$backend" "SELECT COUNT(*) FROM sigov_outbox WHERE $lane AND state = 'sent'")
  [ "$sent" = "$messages" ] || { echo "$backend: $sent rows sent, not $messages" >&2; cat "$work/flush.txt" >&2; exit 1; }
  sql "$backend" "$requeue_sql" >/dev/null

  # The floor: the same rows read once, marked sent server-side, and as many posts.
  first="SELECT id FROM sigov_outbox WHERE $lane AND state = 'pending' ORDER BY id LIMIT $messages"
  read_s=$(timed "$backend" "SELECT id, payload FROM sigov_outbox WHERE $lane AND state = 'pending' ORDER BY id LIMIT $messages")
  mark_s=$(timed "$backend" "UPDATE sigov_outbox SET state = 'sent', attempts = attempts + 1, sent_at = updated_at, \
message_id = 'sigov-floor', last_response = '200 OK' WHERE id IN (SELECT id FROM ($first) AS f)")
  post_s=$(python3 scripts/http-sink.py --replay "$work/body.json" --count "$messages" --secret "$secret" \
    --url "http://127.0.0.1:$port/hook")
  sql "$backend" "$requeue_sql" >/dev/null
  floor=$(python3 -c "print('%.2f' % ($read_s + $mark_s + $post_s))")
  rate=$(python3 -c "print(round($messages / $secs))")
  ratio=$(python3 -c "print('%.2f' % ($secs / ($read_s + $mark_s + $post_s)))")
  echo "| $backend | $rows ($total) | $messages | $secs | $rate | $mb | $read_s | $mark_s | $post_s | $floor | $ratio |"
done
kill "$sink_pid" && wait "$sink_pid" 2>/dev/null || true
sink_pid=""
grep -q "bad_signatures 0" "$work/sink.log" || { echo "the sink saw bad signatures: $(cat "$work/sink.log")" >&2; exit 1; }
