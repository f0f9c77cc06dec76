#!/usr/bin/env bash
# Benchmark: `sigov mail flush` to a local relay over one connection. Queues mail with
# `check all --no-mail` on demo data (SQLite and a throwaway MariaDB), starts the test relay
# (tests/smtp/server.py, aiosmtpd) on loopback, and flushes N messages (default 1,000) in each
# mode and transport: plain SMTP, STARTTLS + AUTH, and .eml files. Prints a Markdown table
# (paste it into BENCHMARKS.md).
#   SIGOV_BENCH_MAILS=1000 bash scripts/bench-mail.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mails="${SIGOV_BENCH_MAILS:-1000}"
date_arg="2026-11-22"

cargo build --release --locked >&2
sigov="$PWD/target/release/sigov"
# shellcheck source=scripts/mariadb-throwaway.sh
. scripts/mariadb-throwaway.sh
start_throwaway_mariadb
work=$(mktemp -d /tmp/sigov-bench-mail.XXXXXX)
relay_pid=""
trap 'stop_throwaway_mariadb; [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

# The relay and its throwaway certificate.
(
  cd "$work"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=sigov bench CA" 2>/dev/null
  openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext 2>/dev/null
)
mkfifo "$work/relay.in"
/usr/bin/python3 tests/smtp/server.py --dir "$work/box" --cert "$work/server.pem" --key "$work/server.key" \
  <"$work/relay.in" >"$work/ports.json" 2>"$work/relay.log" &
relay_pid=$!
exec 9>"$work/relay.in"
for _ in $(seq 1 50); do [ -s "$work/ports.json" ] && break; sleep 0.1; done
port() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/ports.json" "$1"; }
plain=$(port plain)
starttls=$(port starttls)

# Enough demo data to queue `mails` mails, queued without delivery; each flush starts from the
# same queue (the sent rows are put back to pending).
queue() {
  local url=$1
  "$sigov" demo --db "$url" --scale 400 --date "$date_arg" --no-check --format json >/dev/null
  "$sigov" --database-url "$url" check all --date "$date_arg" --no-mail --format json >/dev/null
}
requeue() {
  case "$1" in
    sqlite://*) python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE sigov_outbox SET state=\"pending\", attempts=0"); c.commit()' "${1#sqlite://}" ;;
    *) mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" "${1##*/}" -e "UPDATE sigov_outbox SET state='pending', attempts=0" ;;
  esac
}

echo "| backend | transport | mode | mails | messages | seconds | mails/s | connections | peak RSS MB |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
for backend in sqlite mysql; do
  if [ "$backend" = sqlite ]; then
    url="sqlite://$work/mail.db"
  else
    mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" -e \
      "CREATE DATABASE bench_mail CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    url="${THROWAWAY_MYSQL_URL}bench_mail"
  fi
  queue "$url"
  for case in "smtp://127.0.0.1:$plain?tls=none per_alert" "smtp://localhost:$starttls per_alert" "file://$work/eml per_alert" "smtp://127.0.0.1:$plain?tls=none digest"; do
    read -r transport mode <<<"$case"
    requeue "$url"
    user=""
    [ "$transport" = "smtp://localhost:$starttls" ] && user=sigov
    read -r s mb code < <(SIGOV_MAIL_TRANSPORT="$transport" SIGOV_MAIL_MODE="$mode" SIGOV_SMTP_USER="$user" \
      SIGOV_SMTP_PASSWORD=s3cret SIGOV_SMTP_CA_FILE="$work/ca.pem" \
      measure "$work/flush.json" "$sigov" --database-url "$url" --format json mail flush --limit "$mails")
    succeeded "flush $backend $transport $mode" "$code"
    read -r sent messages conns < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["sent"], d["messages"], d["connections"])' "$work/flush.json")
    rate=$(python3 -c "print('%.0f' % ($sent / $s))")
    label=${transport%%:*}
    [ "$transport" = "smtp://localhost:$starttls" ] && label="smtp STARTTLS+AUTH"
    [ "$label" = smtp ] && label="smtp plain"
    echo "| $backend | $label | $mode | $sent | $messages | $s | $rate | $conns | $mb |"
  done
done
