# Sourced by test-it.sh and bench.sh: start_throwaway_mariadb starts mariadbd on a free loopback
# port with a scratch data directory, creates user sigov/sigov-test, sets THROWAWAY_MYSQL_URL and
# THROWAWAY_MYSQL_SOCKET, and stops and removes everything when the calling shell exits.
# THROWAWAY_MARIADB_DEFAULTS=1 keeps the server's default durability and buffer pool (as the
# reference was measured); otherwise the scratch server trades durability for speed.
# THROWAWAY_MARIADB_POOL=SIZE (with DEFAULTS=1): default durability, a buffer pool of SIZE.

start_throwaway_mariadb() {
  THROWAWAY_DIR=$(mktemp -d /tmp/sigov-mariadb.XXXXXX)
  trap 'stop_throwaway_mariadb' EXIT
  local mariadbd port tuning
  tuning="--innodb-flush-log-at-trx-commit=2 --innodb-buffer-pool-size=1G"
  [ "${THROWAWAY_MARIADB_DEFAULTS:-0}" = 1 ] && tuning=""
  # THROWAWAY_MARIADB_POOL=512M: default durability with that buffer pool.
  [ -n "${THROWAWAY_MARIADB_POOL:-}" ] && tuning="--innodb-buffer-pool-size=$THROWAWAY_MARIADB_POOL"
  mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "[mariadb] starting a throwaway MariaDB on 127.0.0.1:$port ($THROWAWAY_DIR)" >&2
  mariadb-install-db --no-defaults --user=root --datadir="$THROWAWAY_DIR/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$THROWAWAY_DIR/install.log" 2>&1 \
    || { cat "$THROWAWAY_DIR/install.log" >&2; echo "[mariadb] mariadb-install-db failed" >&2; return 1; }
  "$mariadbd" --no-defaults --user=root --datadir="$THROWAWAY_DIR/data" --socket="$THROWAWAY_DIR/mysqld.sock" \
    --bind-address=127.0.0.1 --port="$port" --pid-file="$THROWAWAY_DIR/mysqld.pid" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    $tuning --skip-log-bin \
    --max-connections=200 --log-error="$THROWAWAY_DIR/error.log" &
  THROWAWAY_PID=$!
  local i
  for i in $(seq 1 120); do
    if mariadb --no-defaults -uroot --socket="$THROWAWAY_DIR/mysqld.sock" -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    if ! kill -0 "$THROWAWAY_PID" 2>/dev/null; then
      cat "$THROWAWAY_DIR/error.log" >&2; echo "[mariadb] MariaDB did not start" >&2; return 1
    fi
    sleep 0.5
  done
  mariadb --no-defaults -uroot --socket="$THROWAWAY_DIR/mysqld.sock" -e \
    "CREATE USER 'sigov'@'%' IDENTIFIED BY 'sigov-test'; GRANT ALL ON *.* TO 'sigov'@'%' WITH GRANT OPTION;" \
    || { cat "$THROWAWAY_DIR/error.log" >&2; echo "[mariadb] cannot reach MariaDB" >&2; return 1; }
  THROWAWAY_MYSQL_URL="mysql://sigov:sigov-test@127.0.0.1:$port/"
  THROWAWAY_MYSQL_SOCKET="$THROWAWAY_DIR/mysqld.sock"
}

stop_throwaway_mariadb() {
  if [ -n "${THROWAWAY_PID:-}" ]; then
    kill "$THROWAWAY_PID" 2>/dev/null || true
    wait "$THROWAWAY_PID" 2>/dev/null || true
  fi
  # Nothing to remove when no server was started (SIGOV_TEST_MYSQL_URL given): still success,
  # or the EXIT trap would turn a green run into exit 1.
  if [ -n "${THROWAWAY_DIR:-}" ]; then rm -rf "$THROWAWAY_DIR"; fi
  return 0
}
