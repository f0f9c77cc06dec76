#!/usr/bin/env bash
# Benchmark against the reference's own measurements (spec/reference/peer-figures.md): the
# generator's data (gen_pm_data.py --seed 42 --today 2026-11-22 --history) at several scales,
# loaded into a throwaway MariaDB with default server settings (128 MiB buffer pool,
# innodb_flush_log_at_trx_commit=1, as the reference was measured) over the real fixture schema;
# then `sigov check all --date 2026-11-22` twice per profile on fresh data, as cron runs it (text
# output, stdout not a terminal): run 1 creates, run 2 is the steady state. Wall time and peak RSS
# of the sigov process, rows created, and sigov's own statement count (sum of counters.queries,
# read back with `sigov runs list`). Prints a Markdown table.
#   SIGOV_BENCH_SCALES="50 500 5000" bash scripts/bench-reference.sh
# SIGOV_BENCH_PROFILES="reference" measures one profile (default: reference recommended).
# SIGOV_BENCH_BACKEND=postgres: the same on a throwaway PostgreSQL cluster with default
# durability, over the real PostgreSQL schema, the data converted by scripts/mysql_to_pg.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scales="${SIGOV_BENCH_SCALES:-50 500 5000}"
profiles="${SIGOV_BENCH_PROFILES:-reference recommended}"


backend="${SIGOV_BENCH_BACKEND:-mysql}"
cargo build --release --locked >&2
sigov="$PWD/target/release/sigov"
work=$(mktemp -d /tmp/sigov-bench.XXXXXX)
if [ "$backend" = postgres ]; then
  export THROWAWAY_POSTGRES_DEFAULTS=1
  # shellcheck source=scripts/postgres-throwaway.sh
  . scripts/postgres-throwaway.sh
  trap 'stop_throwaway_postgres; rm -rf "$work"' EXIT
  start_throwaway_postgres
  psql_() { "$THROWAWAY_PG_BIN/psql" -h "$THROWAWAY_PG_SOCKET_DIR" -p "$THROWAWAY_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q "$@" >/dev/null; }
  load_db() {
    psql_ -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 ENCODING 'UTF8' TEMPLATE template0 OWNER sigov"
    psql_ -d "$1" -f tests/fixtures/si-gouvernance-postgres.sql
    python3 scripts/mysql_to_pg.py <"$work/data.sql" | psql_ -d "$1"
    psql_ -d "$1" -c "ANALYZE"
  }
  base_url=$THROWAWAY_PG_URL
else
  export THROWAWAY_MARIADB_DEFAULTS=1
  # shellcheck source=scripts/mariadb-throwaway.sh
  . scripts/mariadb-throwaway.sh
  start_throwaway_mariadb
  trap 'stop_throwaway_mariadb; rm -rf "$work"' EXIT
  mysql() { mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" --default-character-set=utf8mb4 "$@"; }
  load_db() {
    mysql -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    mysql "$1" <tests/fixtures/si-gouvernance-mysql.sql
    mysql "$1" <"$work/data.sql"
  }
  base_url=$THROWAWAY_MYSQL_URL
fi

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

echo "| profile | projects | load data s | run 1 s | run 1 peak RSS MB | run 1 rows | run 1 statements | run 2 s | run 2 peak RSS MB | run 2 rows | run 2 statements |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for scale in $scales; do
  python3 scripts/gen_pm_data.py --scale "$scale" --seed 42 --today 2026-11-22 --history --quiet >"$work/data.sql"
  for profile in $profiles; do
    db="ref_${scale}_$profile"
    t0=$(date +%s.%N)
    load_db "$db"
    load_s=$(python3 -c "import time,sys; print('%.1f' % (time.time() - float(sys.argv[1])))" "$t0")
    url="${base_url}$db"
    "$sigov" --database-url "$url" db migrate >/dev/null
    run() { SIGOV_NOW=2026-11-22T10:40:00Z measure "$1.txt" "$sigov" --database-url "$url" --profile "$profile" --date 2026-11-22 check all --no-mail 2>/dev/null || true; }
    runs() { "$sigov" --database-url "$url" runs list --limit 5 --format json >"$1"; }
    read -r r1_s r1_mb r1_code < <(run "$work/r1")
    runs "$work/r1.json"
    read -r r2_s r2_mb r2_code < <(run "$work/r2")
    runs "$work/r2.json"
    succeeded "check all at $scale projects, profile $profile" "$r1_code" "$r2_code"
    echo "| $profile | $scale | $load_s | $r1_s | $r1_mb | $(runs_total "$work/r1.json" created) | $(runs_total "$work/r1.json" queries) | $r2_s | $r2_mb | $(runs_total "$work/r2.json" created) | $(runs_total "$work/r2.json" queries) |"
  done
done
