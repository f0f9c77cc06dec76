# Sourced by bench.sh and bench-reference.sh.

# measure OUTFILE CMD...: runs CMD with stdout to OUTFILE; prints "wall_seconds max_rss_MB exit".
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
out = open(sys.argv[1], "wb")
t = time.monotonic()
p = subprocess.run(sys.argv[2:], stdout=out)
wall = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("%.2f %.0f %d" % (wall, rss, p.returncode))
PY
}

# total FILE COUNTER: a counter summed over the checks of a `check all` JSON report.
total() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(c["counters"][sys.argv[2]] for c in d["checks"]))' "$1" "$2"; }

# succeeded WHAT CODE...: stops the benchmark when a measured command did not exit 0.
succeeded() {
  local what=$1 code
  shift
  for code in "$@"; do
    if [ "$code" != 0 ]; then echo "$what failed (exit $code)" >&2; exit 1; fi
  done
}
