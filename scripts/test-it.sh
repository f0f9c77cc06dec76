#!/usr/bin/env bash
# Test it: installs what the suite needs when missing (Rust build deps, MariaDB server, Python),
# starts a throwaway MariaDB on loopback, runs the whole suite against it, stops it.
# SIGOV_TEST_MYSQL_URL=mysql://user:pass@host:port/ uses an existing server instead.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test-it] %s\n' "$*" >&2; }

need_pkgs=()
command -v cc >/dev/null || need_pkgs+=(build-essential)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || need_pkgs+=(libmariadb-dev libmariadb-dev-compat)
command -v python3 >/dev/null || need_pkgs+=(python3)
if [ -z "${SIGOV_TEST_MYSQL_URL:-}" ]; then
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need_pkgs+=(mariadb-server)
fi
command -v cargo >/dev/null || need_pkgs+=(cargo)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

workdir=$(mktemp -d /tmp/sigov-test.XXXXXX)
cleanup() {
  if [ -n "${mysqld_pid:-}" ]; then
    kill "$mysqld_pid" 2>/dev/null || true
    wait "$mysqld_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

if [ -z "${SIGOV_TEST_MYSQL_URL:-}" ]; then
  mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log "starting a throwaway MariaDB on 127.0.0.1:$port ($workdir)"
  mariadb-install-db --no-defaults --user=root --datadir="$workdir/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$workdir/install.log" 2>&1 || { cat "$workdir/install.log" >&2; exit 1; }
  "$mariadbd" --no-defaults --user=root --datadir="$workdir/data" --socket="$workdir/mysqld.sock" \
    --bind-address=127.0.0.1 --port="$port" --pid-file="$workdir/mysqld.pid" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-flush-log-at-trx-commit=2 --innodb-buffer-pool-size=256M --skip-log-bin \
    --max-connections=200 --log-error="$workdir/error.log" &
  mysqld_pid=$!
  for _ in $(seq 1 60); do
    if mariadb --no-defaults -uroot --socket="$workdir/mysqld.sock" -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    if ! kill -0 "$mysqld_pid" 2>/dev/null; then cat "$workdir/error.log" >&2; log "MariaDB did not start"; exit 1; fi
    sleep 0.5
  done
  mariadb --no-defaults -uroot --socket="$workdir/mysqld.sock" -e \
    "CREATE USER 'sigov'@'%' IDENTIFIED BY 'sigov-test'; GRANT ALL ON *.* TO 'sigov'@'%' WITH GRANT OPTION;" \
    || { cat "$workdir/error.log" >&2; log "cannot prepare MariaDB"; exit 1; }
  export SIGOV_TEST_MYSQL_URL="mysql://sigov:sigov-test@127.0.0.1:$port/"
  export SIGOV_TEST_MYSQL_SOCKET="$workdir/mysqld.sock"
fi
log "MySQL under test: ${SIGOV_TEST_MYSQL_URL%%:*}://…@${SIGOV_TEST_MYSQL_URL##*@}"

cargo build --all-targets --locked
cargo test --locked -- --test-threads="${SIGOV_TEST_THREADS:-4}"
