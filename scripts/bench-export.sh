#!/usr/bin/env bash
# Benchmark: `sigov export alerts` (CSV and JSON lines) at several table sizes, on SQLite, a
# throwaway MariaDB and a throwaway PostgreSQL cluster. A 50-project demo is checked once, then
# one of its alert rows is copied (a cross join of digit tables) until core_alerteprojet holds
# about each of SIGOV_BENCH_EXPORT_ROWS (default 10000 100000 1000000); the export is written
# to a file. Wall time and peak RSS (the kernel's ru_maxrss) per export. Prints a Markdown table.
#   SIGOV_BENCH_EXPORT_ROWS="10000 100000 1000000" bash scripts/bench-export.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="${SIGOV_BENCH_EXPORT_ROWS:-10000 100000 1000000}"
date_arg="2026-11-22"

cargo build --release --locked >&2
sigov="${CARGO_TARGET_DIR:-$PWD/target}/release/sigov"
# shellcheck source=scripts/mariadb-throwaway.sh
. scripts/mariadb-throwaway.sh
# shellcheck source=scripts/postgres-throwaway.sh
. scripts/postgres-throwaway.sh
work=$(mktemp -d /tmp/sigov-bench-export.XXXXXX)
trap 'stop_throwaway_mariadb; stop_throwaway_postgres; rm -rf "$work"' EXIT
start_throwaway_mariadb
start_throwaway_postgres
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

echo "| backend | copied rows (+ the demo's) | format | seconds | rows/s | peak RSS MB | file MB |"
echo "|---|---:|---|---:|---:|---:|---:|"
for backend in sqlite mysql postgres; do
  case "$backend" in
    sqlite)
      url="sqlite://$work/export.db"
      sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$work/export.db" "$1"; } ;;
    mysql)
      mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" -e \
        "DROP DATABASE IF EXISTS export; CREATE DATABASE export CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
      url="${THROWAWAY_MYSQL_URL}export"
      sql() { mariadb --no-defaults -uroot --socket="$THROWAWAY_MYSQL_SOCKET" export -e "$1"; } ;;
    postgres)
      "$THROWAWAY_PG_BIN/psql" -h "$THROWAWAY_PG_SOCKET_DIR" -p "$THROWAWAY_PG_PORT" -U postgres -q -d postgres \
        -c "CREATE DATABASE export ENCODING 'UTF8' TEMPLATE template0 OWNER sigov" >/dev/null
      url="${THROWAWAY_PG_URL}export"
      sql() { "$THROWAWAY_PG_BIN/psql" -h "$THROWAWAY_PG_SOCKET_DIR" -p "$THROWAWAY_PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 -d export -c "$1" >/dev/null; } ;;
  esac
  "$sigov" demo --db "$url" --scale 50 --date "$date_arg" --no-check --format json >/dev/null
  "$sigov" --database-url "$url" check all --date "$date_arg" --no-mail --format json >/dev/null
  sql "CREATE TABLE t_digits (d INTEGER); INSERT INTO t_digits (d) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
       CREATE TABLE t_alert AS SELECT * FROM core_alerteprojet WHERE id = (SELECT MIN(id) FROM core_alerteprojet);"
  have=0
  for want in $sizes; do
    # Copies in blocks of the largest power of ten that fits what is missing.
    while [ "$have" -lt "$want" ]; do
      block=1 joins="" k=0
      while [ $((block * 10)) -le $((want - have)) ]; do
        k=$((k + 1)); block=$((block * 10)); joins="$joins, t_digits d$k"
      done
      sql "INSERT INTO core_alerteprojet (type_alerte, niveau, titre, message, lue, date_creation, date_lecture,
           donnees_contexte, destinataire_id, projet_id) SELECT a.type_alerte, a.niveau, a.titre, a.message, a.lue,
           a.date_creation, a.date_lecture, a.donnees_contexte, a.destinataire_id, a.projet_id FROM t_alert a $joins"
      have=$((have + block))
    done
    [ "$backend" = postgres ] && sql "ANALYZE"
    for format in csv jsonl; do
      read -r wall rss code < <(measure /dev/null "$sigov" --database-url "$url" --format "$format" \
        export alerts -o "$work/out.$format")
      succeeded "export $format" "$code"
      mb=$(du -m "$work/out.$format" | cut -f1)
      rows=$have
      rate=$(python3 -c "print(round($rows / max($wall, 0.01)))")
      echo "| $backend | $rows | $format | $wall | $rate | $rss | $mb |"
    done
  done
done
