#!/usr/bin/env bash
# Benchmark: `sigov mail flush` with a large outbox, to a fast sink (scripts/smtp-sink.py, which
# accepts every message at once: sigov's own ceiling, not a relay's). Queues the mail of a
# 5,000-project demo run (`check all --no-mail`), copies those rows until the outbox holds
# about SIGOV_BENCH_QUEUE rows (default 300,000; the copies differ only by their alert key),
# then flushes SIGOV_BENCH_MAILS of them (default 30,000) per alert, on SQLite and on a
# throwaway MariaDB with default settings, once per mail.sent_group of SIGOV_BENCH_GROUPS
# (default "1 20": a commit per mail, and the default grouping). Prints a Markdown table.
#   SIGOV_BENCH_QUEUE=300000 SIGOV_BENCH_MAILS=30000 bash scripts/bench-outbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
queue="${SIGOV_BENCH_QUEUE:-300000}"
mails="${SIGOV_BENCH_MAILS:-30000}"
groups="${SIGOV_BENCH_GROUPS:-1 20}"
date_arg="2026-11-22"

cargo build --release --locked >&2
sigov="$PWD/target/release/sigov"
export THROWAWAY_MARIADB_DEFAULTS=1
# shellcheck source=scripts/mariadb-throwaway.sh
. scripts/mariadb-throwaway.sh
start_throwaway_mariadb
work=$(mktemp -d /tmp/sigov-bench-outbox.XXXXXX)
sink_pid=""
trap 'stop_throwaway_mariadb; [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

python3 scripts/smtp-sink.py >"$work/port" 2>"$work/accepted" &
sink_pid=$!
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

copy_sql() {
  echo "INSERT INTO sigov_outbox (alert_key, recipient_id, recipient_email, kind, payload, state, attempts, \
next_attempt_at, created_at, updated_at, run_id, snapshot_id) SELECT alert_key || '#$1', recipient_id, recipient_email, kind, \
payload, state, attempts, next_attempt_at, created_at, updated_at, run_id, snapshot_id FROM sigov_outbox WHERE alert_key NOT LIKE '%#%';"
}

echo "| backend | mail.sent_group | rows in the outbox | mails flushed | seconds | mails/s | sigov CPU ms/mail | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for backend in sqlite mysql; do
  if [ "$backend" = sqlite ]; then
    url="sqlite://$work/outbox.db"
  else
    mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" -e \
      "DROP DATABASE IF EXISTS outbox; CREATE DATABASE outbox CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    url="${THROWAWAY_MYSQL_URL}outbox"
  fi
  "$sigov" demo --db "$url" --scale 5000 --date "$date_arg" --no-check --format json >/dev/null
  "$sigov" --database-url "$url" check all --date "$date_arg" --no-mail --format json >/dev/null
  sql() {
    case "$backend" in
      sqlite) python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); print(c.execute("SELECT COUNT(*) FROM sigov_outbox").fetchone()[0])' "$work/outbox.db" "$1" ;;
      mysql) mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" -N outbox -e "SET sql_mode = 'PIPES_AS_CONCAT'; $1 SELECT COUNT(*) FROM sigov_outbox;" ;;
    esac
  }
  rows=$(sql "")
  i=0
  while [ "$rows" -lt "$queue" ]; do
    i=$((i + 1))
    rows=$(sql "$(copy_sql "$i")")
  done
  # The same mails flushed once per sent_group: the sent rows are put back to pending between.
  for group in $groups; do
    sql "UPDATE sigov_outbox SET state = 'pending', attempts = 0, sent_at = NULL, message_id = NULL, last_response = NULL WHERE state = 'sent';" >/dev/null
    printf '[mail]\nsent_group = %s\n' "$group" >"$work/sigov.toml"
    read -r secs mb code < <(SIGOV_CONFIG="$work/sigov.toml" SIGOV_MAIL_TRANSPORT="smtp://127.0.0.1:$port?tls=none" \
      measure "$work/flush.txt" "$sigov" --database-url "$url" mail flush --limit "$mails")
    succeeded "mail flush on $backend" "$code"
    cpu=$(cat "$work/flush.txt.cpu")
    rate=$(python3 -c "print(round($mails / $secs))")
    cpu_ms=$(python3 -c "print(round($cpu * 1000 / $mails, 3))")
    echo "| $backend | $group | $rows | $mails | $secs | $rate | $cpu_ms | $mb |"
  done
done
