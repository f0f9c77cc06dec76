# Sourced by test-it.sh and the benchmarks: start_throwaway_postgres runs initdb in a scratch
# directory, starts a PostgreSQL server on a free loopback port (its socket in the same
# directory), creates role sigov (password sigov-test; a superuser of this throwaway cluster:
# tests create databases and roles, and switch foreign keys off) and sets THROWAWAY_PG_URL
# (postgres://sigov:…@127.0.0.1:PORT/) and THROWAWAY_PG_SOCKET_DIR; everything is stopped and
# removed when the calling shell exits. As root, the server runs as user `postgres`.
# THROWAWAY_POSTGRES_DEFAULTS=1 keeps the server's default durability (benchmarks).

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null && dirname "$(command -v initdb)" && return 0
  return 1
}

start_throwaway_postgres() {
  local bin port run tuning
  bin=$(pg_bindir) || { echo "[postgres] initdb not found (apt-get install postgresql)" >&2; return 1; }
  THROWAWAY_PG_DIR=$(mktemp -d /tmp/sigov-postgres.XXXXXX)
  run=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$THROWAWAY_PG_DIR" postgres
    chown postgres "$THROWAWAY_PG_DIR"
    run=(runuser -u postgres --)
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "[postgres] starting a throwaway PostgreSQL on 127.0.0.1:$port ($THROWAWAY_PG_DIR)" >&2
  "${run[@]}" "$bin/initdb" -D "$THROWAWAY_PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth=trust >"$THROWAWAY_PG_DIR/initdb.log" 2>&1 \
    || { cat "$THROWAWAY_PG_DIR/initdb.log" >&2; echo "[postgres] initdb failed" >&2; return 1; }
  # Loopback: password authentication for sigov's role (the tests connect as a client would).
  printf 'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' \
    | "${run[@]}" tee "$THROWAWAY_PG_DIR/data/pg_hba.conf" >/dev/null
  THROWAWAY_PG_BIN=$bin
  THROWAWAY_PG_RUN=("${run[@]}")
  tuning="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${THROWAWAY_POSTGRES_DEFAULTS:-0}" = 1 ] && tuning=""
  # shellcheck disable=SC2086
  "${run[@]}" "$bin/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -l "$THROWAWAY_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $THROWAWAY_PG_DIR -c max_connections=200 $tuning" start \
    >/dev/null || { cat "$THROWAWAY_PG_DIR/server.log" >&2; echo "[postgres] PostgreSQL did not start" >&2; return 1; }
  "$bin/psql" -h "$THROWAWAY_PG_DIR" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE sigov LOGIN SUPERUSER PASSWORD 'sigov-test'" \
    || { cat "$THROWAWAY_PG_DIR/server.log" >&2; echo "[postgres] cannot reach PostgreSQL" >&2; return 1; }
  THROWAWAY_PG_URL="postgres://sigov:sigov-test@127.0.0.1:$port/"
  THROWAWAY_PG_SOCKET_DIR=$THROWAWAY_PG_DIR
  THROWAWAY_PG_PORT=$port
}

stop_throwaway_postgres() {
  if [ -n "${THROWAWAY_PG_BIN:-}" ] && [ -d "${THROWAWAY_PG_DIR:-}/data" ]; then
    "${THROWAWAY_PG_RUN[@]}" "$THROWAWAY_PG_BIN/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  # As for MariaDB: nothing started (SIGOV_TEST_PG_URL given) is no failure.
  if [ -n "${THROWAWAY_PG_DIR:-}" ]; then rm -rf "$THROWAWAY_PG_DIR"; fi
  return 0
}
