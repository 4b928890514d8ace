#!/usr/bin/env bash
# CPU profile of one larder process serving 1 KiB hits, summarised by bench/profile-summary.mjs.
# Usage: bench/profile.sh [extra larder options...]      e.g. bench/profile.sh --access-log off
# Knobs (env): HARNESS=…/shared/bench NODE=node (the runtime to profile) CONNS=64 DUR=10 PROF_DIR=/tmp/larder-prof.XXXX
# Starts the shared harness's origin (nginx, ../shared/bench/origin) on 127.0.0.1:19700 and larder on :19710,
# outside bench.sh's 19100-19599 so it can run beside a benchmark; stops both by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# the shared harness: $HARNESS, or shared/bench beside this checkout or beside one of its parents
if [ -z "${HARNESS:-}" ]; then d=$PWD; while [ "$d" != / ]; do d=$(dirname "$d"); [ -f "$d/shared/bench/bench.sh" ] && { HARNESS=$d/shared/bench; break; }; done; fi
[ -n "${HARNESS:-}" ] || { echo "shared/bench not found: set HARNESS=path/to/shared/bench" >&2; exit 1; }
NODE=${NODE:-node}; CONNS=${CONNS:-64}; DUR=${DUR:-10}
ORIGIN_PORT=19700; SLOW_PORT=19701; PORT=19710
for t in nginx wrk curl; do command -v $t >/dev/null || { echo "missing $t (apt-get install -y nginx wrk curl)" >&2; exit 1; }; done
[ -f dist/cli.js ] || { echo "dist/cli.js missing: npm run build" >&2; exit 1; }

RUN=$(mktemp -d /tmp/larder-prof.XXXXXX); chmod 755 "$RUN"
PROF_DIR=${PROF_DIR:-$RUN/prof}; mkdir -p "$PROF_DIR" "$RUN/www/obj" "$RUN/origin-tmp" "$RUN/cache"
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

head -c 1024 /dev/urandom > "$RUN/www/obj/1k"; chmod -R a+rX "$RUN/www"
sed -e "s#@RUN@#$RUN#g" -e "s#@ORIGIN_PORT@#$ORIGIN_PORT#g" -e "s#@SLOW_PORT@#$SLOW_PORT#g" \
  "$HARNESS/origin/origin-nginx.conf" > "$RUN/origin-nginx.conf"
nginx -p "$RUN" -e "$RUN/origin-error.log" -c "$RUN/origin-nginx.conf" & pids+=($!)

"$NODE" --cpu-prof --cpu-prof-dir="$PROF_DIR" dist/cli.js --port $PORT --upstream "http://127.0.0.1:$ORIGIN_PORT" \
  --cache-dir "$RUN/cache" "$@" > "$RUN/larder.out" 2>&1 & larder=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/obj/1k" && break; sleep 0.1; done
curl -s -o /dev/null -D - "http://127.0.0.1:$PORT/obj/1k" | tr -d '\r' | grep -i '^cache-status' >&2
wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$PORT/obj/1k"

kill -INT $larder   # --cpu-prof writes the profile when the process exits
for _ in $(seq 100); do kill -0 $larder 2>/dev/null || break; sleep 0.1; done
kill -0 $larder 2>/dev/null && { echo "larder did not exit on SIGINT" >&2; kill -KILL $larder; exit 1; }
prof=$(ls -t "$PROF_DIR"/*.cpuprofile 2>/dev/null | head -1)
[ -n "$prof" ] || { echo "no .cpuprofile written in $PROF_DIR" >&2; exit 1; }
echo "profile: $prof (node $("$NODE" -v), larder options: ${*:-none})"
node bench/profile-summary.mjs "$prof" --top "${TOP:-25}"
