#!/usr/bin/env bash
# Try it: builds sigov, creates the embedded SQLite demo database with realistic SI-Gouvernance
# data (./sigov-demo.db), runs every check, writes their mails as .eml files
# (./sigov-demo-mail/), and prints what happened. Installs missing build
# packages on Debian (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v cc >/dev/null || need_pkgs+=(build-essential)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || need_pkgs+=(libmariadb-dev libmariadb-dev-compat)
pkg-config --exists openssl 2>/dev/null || need_pkgs+=(libssl-dev)
command -v cargo >/dev/null || need_pkgs+=(cargo)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "[try-it] installing: ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

cargo build --release --locked
sigov=./target/release/sigov
db="sqlite://./sigov-demo.db"

echo
echo "== sigov demo: demo database and a first run of every check"
"$sigov" demo --db "$db" "$@"

echo
echo "== a second run the same day records nothing twice (dry run of every check)"
"$sigov" --database-url "$db" check all --dry-run

echo
echo "== the rows the web application shows (core_alerteprojet), newest first"
sqlite_rows() {
  if command -v sqlite3 >/dev/null; then
    sqlite3 -header -column ./sigov-demo.db \
      "SELECT a.id, a.type_alerte, a.niveau, u.username AS destinataire, substr(a.titre, 1, 60) AS titre
       FROM core_alerteprojet a JOIN core_utilisateur u ON u.id = a.destinataire_id ORDER BY a.id DESC LIMIT 10"
    echo
    sqlite3 -header -column ./sigov-demo.db \
      "SELECT 'core_alerteprojet' AS tab, type_alerte AS type, COUNT(*) AS n FROM core_alerteprojet GROUP BY type_alerte
       UNION ALL SELECT 'core_notificationetape', type_notification, COUNT(*) FROM core_notificationetape GROUP BY type_notification"
  else
    echo "(install sqlite3 to browse ./sigov-demo.db)"
  fi
}
sqlite_rows

echo
echo "== the mails, one .eml file per alert in ./sigov-demo-mail/ (sent through the file transport)"
"$sigov" --database-url "$db" mail queue --state sent --limit 5
shopt -s nullglob
emls=(./sigov-demo-mail/*.eml)
if [ ${#emls[@]} -gt 0 ]; then
  echo
  echo "== the first one's headers (${emls[0]})"
  awk '/^\r?$/ { exit } { print }' "${emls[0]}"
fi
echo
echo "Demo database: ./sigov-demo.db, mails: ./sigov-demo-mail/ (${#emls[@]} files)"
echo "Try: $sigov --database-url $db check all --dry-run -v"
echo "     $sigov mail preview --output ./sigov-preview   (a sample of each mail, .eml and .html)"
