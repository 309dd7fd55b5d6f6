#!/usr/bin/env bash
# wrk figures for GET and PUT /kv/:key against a local in-memory cluster (the closing-note
# measurements). Starts `node bin/ringkv.mjs up --memory`, waits for /health, prefills the GET
# keys (1 KiB each), runs `wrk -t2 -c50 -d10s --latency` for GET (get.lua) and PUT (put.lua,
# 1 KiB bodies), prints wrk's output and a summary, and stops the cluster with SIGTERM.
#
# Environment: PORT (18080), THREADS (2), CONNECTIONS (50), DURATION (10s), GET_KEYS (1000),
# PUT_KEYS (100000), NODES (5). Needs wrk (Debian: apt-get install wrk) and curl.
set -euo pipefail

cd "$(dirname "$0")/../.."
PORT="${PORT:-18080}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-50}"
DURATION="${DURATION:-10s}"
GET_KEYS="${GET_KEYS:-1000}"
PUT_KEYS="${PUT_KEYS:-100000}"
NODES="${NODES:-5}"
BASE="http://127.0.0.1:${PORT}"
HERE="bench/wrk"

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }
if curl -sf -o /dev/null "${BASE}/health"; then
  echo "something already answers on ${BASE}; choose another PORT" >&2
  exit 1
fi

LOG="$(mktemp -t ringkv-wrk-up.XXXXXX)"
node bin/ringkv.mjs up --memory --nodes "$NODES" --port "$PORT" --host 127.0.0.1 >"$LOG" 2>&1 &
UP_PID=$!

stop_cluster() {
  if kill -0 "$UP_PID" 2>/dev/null; then
    kill -TERM "$UP_PID"
    for _ in $(seq 1 300); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$UP_PID" 2>/dev/null; then
      echo "cluster did not stop within 30 s of SIGTERM; killing it" >&2
      kill -KILL "$UP_PID"
    fi
  fi
  wait "$UP_PID" 2>/dev/null || true
  rm -f "$LOG"
}
trap stop_cluster EXIT

start_ms=$(date +%s%3N)
for _ in $(seq 1 600); do # at most 60 s
  curl -sf -o /dev/null "${BASE}/health" && break
  kill -0 "$UP_PID" 2>/dev/null || { echo "up exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null "${BASE}/health" || { echo "no /health within 60 s" >&2; cat "$LOG" >&2; exit 1; }
echo "cluster ready after $(( $(date +%s%3N) - start_ms )) ms ($(head -n 1 "$LOG"))"

node "$HERE/prefill.mjs" "$BASE" "$GET_KEYS" wrk-get-

run_wrk() { # name script keys prefix
  echo
  echo "=== $1: wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION} --latency -s $2 (${3} keys)"
  RINGKV_WRK_KEYS="$3" RINGKV_WRK_PREFIX="$4" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s "$2" "$BASE" |
    tee "$TMP_OUT/$1.txt"
}

TMP_OUT="$(mktemp -d -t ringkv-wrk.XXXXXX)"
run_wrk GET "$HERE/get.lua" "$GET_KEYS" wrk-get-
run_wrk PUT "$HERE/put.lua" "$PUT_KEYS" wrk-put-

summary() { # name
  local file="$TMP_OUT/$1.txt"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$file")
  p50=$(awk '$1 == "50%" {print $2}' "$file")
  p99=$(awk '$1 == "99%" {print $2}' "$file")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $NF} /Socket errors:/ {print}' "$file" | paste -sd' ' -)
  printf '%-4s %10s req/s   p50 %-9s p99 %-9s %s\n' "$1" "$rps" "$p50" "$p99" "${errors:+errors: $errors}"
}
echo
echo "=== summary ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
summary GET
summary PUT
echo "keys per node after the runs: $(curl -s "${BASE}/status" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const st = JSON.parse(s); console.log(st.nodes.map((n) => `${n.id}:${n.keys} keys`).join(" "));
  });')"
rm -rf "$TMP_OUT"
