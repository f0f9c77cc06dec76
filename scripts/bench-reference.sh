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
# SIGOV_BENCH_POOL=512M: MariaDB's buffer pool (default: the server's, 128 MiB).
#
# The floor, timed on the same server in the same session of the benchmark, around sigov's runs:
# the reads (scripts/floor/reads.sql: each table the checks need read once, narrow, every row
# to the C client) before run 1 and again before run 2, and the writes (scripts/floor/writes-*.sql:
# the rows run 1 wrote, inserted again server-side into clones) after run 1. The ratios: run 1
# to (reads + writes), run 2 to the reads. CPU: sigov's own user + system seconds.
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
  client() { "$THROWAWAY_PG_BIN/psql" -h "$THROWAWAY_PG_SOCKET_DIR" -p "$THROWAWAY_PG_PORT" -U postgres -X -q -A -t -d "$@"; }
  floor_writes() { client "$1" -v alerts="$2" -v notifs="$3" -f scripts/floor/writes-postgres.sql | grep -E '^[0-9.]+$'; }
  read_floor="'$THROWAWAY_PG_BIN/psql' -h '$THROWAWAY_PG_SOCKET_DIR' -p '$THROWAWAY_PG_PORT' -U postgres -X -q -A -t -d \"\$1\" -f scripts/floor/reads.sql"
  base_url=$THROWAWAY_PG_URL
else
  export THROWAWAY_MARIADB_DEFAULTS=1
  [ -n "${SIGOV_BENCH_POOL:-}" ] && export THROWAWAY_MARIADB_POOL=$SIGOV_BENCH_POOL
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
  client() { mysql -N -B "$@"; }
  floor_writes() { { echo "SET @alerts = $2, @notifs = $3;"; cat scripts/floor/writes-mysql.sql; } | client "$1"; }
  read_floor="mariadb --no-defaults -uroot --socket='$THROWAWAY_MYSQL_SOCKET' --default-character-set=utf8mb4 -N -B \"\$1\" <scripts/floor/reads.sql"
  base_url=$THROWAWAY_MYSQL_URL
fi

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

echo "| profile | projects | load data s | floor reads s | floor writes s | run 1 s | run 1 / floor | run 1 CPU s | run 1 peak RSS MB | run 1 rows | run 1 statements | floor reads s (before run 2) | run 2 s | run 2 / floor | run 2 CPU s | run 2 peak RSS MB | run 2 rows | run 2 statements |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
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
    reads() { local s c; read -r s _ c < <(measure "$work/floor.txt" bash -c "$read_floor" _ "$db"); succeeded "floor reads" "$c"; echo "$s"; }
    alerts=$(echo "SELECT COALESCE(MAX(id), 0) FROM core_alerteprojet" | client "$db" | tr -d ' ')
    notifs=$(echo "SELECT COALESCE(MAX(id), 0) FROM core_notificationetape" | client "$db" | tr -d ' ')
    f1=$(reads)
    read -r r1_s r1_mb r1_code < <(run "$work/r1")
    r1_cpu=$(cat "$work/r1.txt.cpu")
    runs "$work/r1.json"
    fw=$(printf '%.2f' "$(floor_writes "$db" "$alerts" "$notifs" | tail -1 | tr -d ' ')")
    f2=$(reads)
    read -r r2_s r2_mb r2_code < <(run "$work/r2")
    r2_cpu=$(cat "$work/r2.txt.cpu")
    runs "$work/r2.json"
    succeeded "check all at $scale projects, profile $profile" "$r1_code" "$r2_code"
    ratio1=$(python3 -c "print('%.2f' % ($r1_s / ($f1 + $fw)))")
    ratio2=$(python3 -c "print('%.2f' % ($r2_s / $f2))")
    echo "| $profile | $scale | $load_s | $f1 | $fw | $r1_s | ${ratio1}× | $r1_cpu | $r1_mb | $(runs_total "$work/r1.json" created) | $(runs_total "$work/r1.json" queries) | $f2 | $r2_s | ${ratio2}× | $r2_cpu | $r2_mb | $(runs_total "$work/r2.json" created) | $(runs_total "$work/r2.json" queries) |"
  done
done
