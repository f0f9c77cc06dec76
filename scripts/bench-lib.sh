# Sourced by bench.sh and bench-reference.sh.

# measure OUTFILE CMD...: runs CMD with stdout to OUTFILE; prints "wall_seconds max_rss_MB exit"
# and writes the command's own CPU seconds (user + system) to OUTFILE.cpu.
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
out = open(sys.argv[1], "wb")
t = time.monotonic()
p = subprocess.run(sys.argv[2:], stdout=out)
wall = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = ru.ru_maxrss / 1024
open(sys.argv[1] + ".cpu", "w").write("%.2f\n" % (ru.ru_utime + ru.ru_stime))
print("%.2f %.0f %d" % (wall, rss, p.returncode))
PY
}

# runs_total FILE COUNTER: a counter summed over the runs of a `sigov runs list --format json`.
runs_total() { python3 -c 'import json,sys; print(sum(r["counters"].get(sys.argv[2], 0) for r in json.load(open(sys.argv[1]))))' "$1" "$2"; }

# succeeded WHAT CODE...: stops the benchmark when a measured command did not exit 0.
succeeded() {
  local what=$1 code
  shift
  for code in "$@"; do
    if [ "$code" != 0 ]; then echo "$what failed (exit $code)" >&2; exit 1; fi
  done
}
