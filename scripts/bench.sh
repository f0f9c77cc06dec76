#!/usr/bin/env bash
# Benchmark: generated demo data at several scales, on SQLite and on a throwaway MariaDB.
# For each (backend, scale): time to generate and load the data, then `sigov check all` twice
# as cron runs it (text output, stdout not a terminal; first run creates, second is the steady
# state): wall time, peak RSS, rows created and statements sent (sums over the five checks,
# read back with `sigov runs list`). Prints a Markdown table (paste it into
# BENCHMARKS.md). The reference's own data set: scripts/bench-reference.sh.
#   SIGOV_BENCH_SCALES="500 5000 50000" bash scripts/bench.sh
# SIGOV_BENCH_BACKENDS="sqlite" measures one backend (default: sqlite mysql).
set -euo pipefail
cd "$(dirname "$0")/.."
scales="${SIGOV_BENCH_SCALES:-500 5000 50000}"
backends="${SIGOV_BENCH_BACKENDS:-sqlite mysql}"
date_arg="2026-11-22"

cargo build --release --locked >&2
sigov="$PWD/target/release/sigov"
# shellcheck source=scripts/mariadb-throwaway.sh
. scripts/mariadb-throwaway.sh
start_throwaway_mariadb
work=$(mktemp -d /tmp/sigov-bench.XXXXXX)
trap 'stop_throwaway_mariadb; rm -rf "$work"' EXIT

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

echo "| backend | projects | load data s | run 1 s | run 1 peak RSS MB | run 1 alerts | run 1 statements | run 2 s | run 2 peak RSS MB | run 2 alerts | run 2 statements |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for scale in $scales; do
  for backend in $backends; do
    if [ "$backend" = sqlite ]; then
      url="sqlite://$work/bench-$scale.db"
    else
      mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" -e \
        "DROP DATABASE IF EXISTS bench_$scale; CREATE DATABASE bench_$scale CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
      url="${THROWAWAY_MYSQL_URL}bench_$scale"
    fi
    read -r load_s _ load_code < <(measure "$work/demo.json" "$sigov" demo --db "$url" --scale "$scale" --date "$date_arg" --no-check --format json)
    read -r r1_s r1_mb r1_code < <(measure "$work/r1.txt" "$sigov" --database-url "$url" check all --date "$date_arg" --no-mail)
    "$sigov" --database-url "$url" runs list --limit 5 --format json > "$work/r1.json"
    read -r r2_s r2_mb r2_code < <(measure "$work/r2.txt" "$sigov" --database-url "$url" check all --date "$date_arg" --no-mail)
    "$sigov" --database-url "$url" runs list --limit 5 --format json > "$work/r2.json"
    succeeded "$backend at $scale projects" "$load_code" "$r1_code" "$r2_code"
    echo "| $backend | $scale | $load_s | $r1_s | $r1_mb | $(runs_total "$work/r1.json" created) | $(runs_total "$work/r1.json" queries) | $r2_s | $r2_mb | $(runs_total "$work/r2.json" created) | $(runs_total "$work/r2.json" queries) |"
    rm -f "$work"/bench-*.db*
  done
done
