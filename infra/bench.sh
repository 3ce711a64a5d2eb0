#!/usr/bin/env bash
# Benchmark (not a test): prints
#   1. each Lambda function's stripped release binary size (cargo lambda build, the
#      architecture template.yaml declares) and the local binaries' sizes;
#   2. Lambda init, exec → first `GET /runtime/invocation/next`, of `permits` and
#      `respect_week` (host architecture, on DynamoDB Local) next to a lambda_http
#      hello-world with the same release profile (examples/lambda_hello.rs), through a
#      stand-in for the Runtime API (infra/bench/lambda_init.py); and the first
#      invocation of POST /permits on DynamoDB Local;
#   3. exec → first `GET /health` 200 of `loket serve` (embedded store) next to an
#      empty axum server built with the same release profile (examples/empty_axum.rs);
#   4. throughput and latency (wrk --latency, loopback only, bounded) of the empty
#      axum server's /health (the floor), the public programme (JSON, 20 items), the
#      ICS feed with and without If-None-Match (304), and two pages; and POST /permits
#      at a steady 500 requests per second (examples/steady_load.rs) and flat out;
#   5. every row of issue #15's table as a ratio against its floor, with its goal.
#
#   infra/bench.sh            # knobs: BENCH_DURATION (10s), BENCH_CONNECTIONS (16),
#                             # BENCH_THREADS (2), BENCH_START_RUNS (30),
#                             # LOKET_LAMBDA_TARGET_DIR (as infra/test-extra.sh)
#
# Needs: wrk (apt-get install -y wrk; installed here when missing), .venv
# (infra/tools.sh install) for cargo-lambda. Run it on a quiet machine: wrk and the
# server share the cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
THREADS="${BENCH_THREADS:-2}"
START_RUNS="${BENCH_START_RUNS:-30}"
NOW="2017-03-01T10:00:00+01:00"
LAMBDA_TARGET_DIR="${LOKET_LAMBDA_TARGET_DIR:-$HOME/.cache/loket/lambda-target}"
WORK="$(mktemp -d)"
SERVER_PID=""
FLOOR_PID=""
DDB_PORT=""

cleanup() {
  for pid in "$SERVER_PID" "$FLOOR_PID"; do
    if [[ -n "$pid" ]]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  [[ -n "$DDB_PORT" ]] && infra/dynamodb-local.sh stop "$DDB_PORT" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "bench: $*" >&2; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

command -v wrk >/dev/null || {
  say "installing wrk (apt)"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
}

# ------------------------------------------------------------------ builds --
read -r ARCH BINS < <(.venv/bin/python - <<'PY'
from cfnlint.decode import decode
t, _ = decode("template.yaml")
arch = t.get("Globals", {}).get("Function", {}).get("Architectures", ["x86_64"])[0]
bins = [r["Metadata"]["BuildProperties"]["Binary"] for r in t["Resources"].values()
        if r.get("Type") == "AWS::Serverless::Function"]
print(arch, " ".join(bins))
PY
)
ARCH_FLAG=--x86-64
[[ "$ARCH" == arm64 ]] && ARCH_FLAG=--arm64
BIN_ARGS=()
for b in $BINS; do BIN_ARGS+=(--bin "$b"); done
say "building the Lambda functions ($ARCH) and the local binaries (release; no-ops when fresh)"
CARGO_TARGET_DIR="$LAMBDA_TARGET_DIR" cargo lambda build --release --locked --quiet "$ARCH_FLAG" "${BIN_ARGS[@]}"
cargo build --release --locked --quiet --bin loket --bin permits --bin respect_week \
  --example empty_axum --example lambda_hello --example steady_load
RELEASE_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release"
LOKET="$RELEASE_DIR/loket"
EMPTY="$RELEASE_DIR/examples/empty_axum"
HELLO="$RELEASE_DIR/examples/lambda_hello"
STEADY="$RELEASE_DIR/examples/steady_load"

size() { numfmt --to=iec-i --suffix=B --format='%.1f' "$(stat -c %s "$1")"; }

echo
echo "== 1. Release binary sizes (stripped; profile.release: opt-level s, lto, codegen-units 1, panic abort)"
for b in $BINS; do
  printf '  %-28s %10s  (%s, Lambda bootstrap)\n' "$b" "$(size "$LAMBDA_TARGET_DIR/lambda/$b/bootstrap")" "$ARCH"
done
printf '  %-28s %10s  (%s, local server)\n' loket "$(size "$LOKET")" "$(uname -m)"
printf '  %-28s %10s  (%s, baseline)\n' empty_axum "$(size "$EMPTY")" "$(uname -m)"

# ----------------------------------------------------------- Lambda init --
median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
echo
echo "== 2. Lambda init: exec → first GET /runtime/invocation/next ($START_RUNS runs each, $(uname -m), Runtime API stand-in)"
DDB_PORT="$(infra/dynamodb-local.sh start)"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT" AWS_REGION=eu-west-1 \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
LOKET_STORE=dynamodb LOKET_TABLE=bench "$LOKET" create-table >/dev/null 2>&1
lambda_env=(env LOKET_STORE=dynamodb LOKET_TABLE=bench LOKET_NOW="$NOW" RUST_LOG=warn
  LOKET_CURSOR_KEY=bench-cursor-key LOKET_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123)
init_of() { # label, event, binary
  local line
  line="$("${lambda_env[@]}" python3 infra/bench/lambda_init.py "$START_RUNS" "$2" "$3")"
  printf '  %-28s %s\n' "$1" "$line" >&2
  echo "$line"
}
INIT_HELLO="$(init_of "lambda_http hello (floor)" tests/fixtures/apigw_v2_get_health.json "$HELLO" | sed -n 's/^init \([0-9.]*\) ms.*/\1/p')"
INIT_PERMITS="$(init_of "permits" tests/fixtures/apigw_v2_get_health.json "$RELEASE_DIR/permits" | sed -n 's/^init \([0-9.]*\) ms.*/\1/p')"
INIT_WVR="$(init_of "respect_week" tests/fixtures/apigw_v2_get_health.json "$RELEASE_DIR/respect_week" | sed -n 's/^init \([0-9.]*\) ms.*/\1/p')"
FIRST_POST="$(init_of "permits, POST /permits" tests/fixtures/lambda_smoke_post_permits.json "$RELEASE_DIR/permits" | sed -n 's/.*first invocation \([0-9.]*\) ms.*/\1/p')"

# ---------------------------------------------------------------- start-up --
echo
echo "== 3. exec → first GET /health 200 ($START_RUNS runs each, loopback)"
PORT="$(free_port)"
printf '  %-28s ' "empty axum (floor)"
START_FLOOR="$(LOKET_BIND="127.0.0.1:$PORT" python3 infra/bench/first_health.py "$START_RUNS" "$EMPTY")"
echo "$START_FLOOR"
printf '  %-28s ' "loket serve (embedded)"
# A fresh data folder: the first run creates the redb file, the others reopen it.
START_LOKET="$(LOKET_BIND="127.0.0.1:$PORT" LOKET_DATA_DIR="$WORK/start-data" LOKET_NOW="$NOW" \
  LOKET_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123" RUST_LOG=warn \
  python3 infra/bench/first_health.py "$START_RUNS" "$LOKET" serve)"
echo "$START_LOKET"
START_FLOOR="$(echo "$START_FLOOR" | median)"
START_LOKET="$(echo "$START_LOKET" | median)"

# ------------------------------------------------------------------- load --
run_wrk() { # title, wrk args... (sets LAST_RPS)
  local title="$1"
  shift
  echo
  echo "== 4. $title (wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$WORK/wrk.out"
  awk '/^  Latency Distribution/ {d = 1; next} d && /%/ {print "  p" $1 "  " $2} /^Requests\/sec/ {print "  throughput " $2 " req/s"} /Non-2xx/ {print "  WARNING: " $0}' "$WORK/wrk.out" |
    grep -E 'p50%|p99%|throughput|WARNING' | sed 's/%//'
  LAST_RPS="$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.out")"
}

# The floor: axum answering a small JSON document, nothing else.
PORT="$(free_port)"
LOKET_BIND="127.0.0.1:$PORT" "$EMPTY" >/dev/null 2>&1 &
FLOOR_PID=$!
for ((i = 0; i < 100; i++)); do curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.05; done
run_wrk "GET /health of the empty axum server (the floor)" "http://127.0.0.1:$PORT/health"
RPS_FLOOR="$LAST_RPS"
kill "$FLOOR_PID"
wait "$FLOOR_PID" 2>/dev/null || true
FLOOR_PID=""

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"
JWT_SECRET="bench-secret-bench-secret-bench-secret-0123"
LOKET_BIND="127.0.0.1:$PORT" LOKET_DATA_DIR="$WORK/load-data" LOKET_NOW="$NOW" LOKET_RATE_LIMIT=0 \
  LOKET_JWT_SECRET="$JWT_SECRET" RUST_LOG=warn "$LOKET" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do
  curl -fs "$URL/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$URL/health" >/dev/null || { cat "$WORK/server.log" >&2; exit 1; }

# A programme to read: 20 registrations for 2017, published by staff.
TOKEN="$(LOKET_JWT_SECRET="$JWT_SECRET" "$LOKET" token --sub bench 2>/dev/null)"
seeded=0
for ((i = 1; i <= 20; i++)); do
  body="$(python3 - "$i" <<'PY'
import json, sys
i = int(sys.argv[1])
print(json.dumps({
  "organisation": {"name": f"OBS De Regenboog {i}", "type": "primary_school"},
  "contact": {"name": "J. Bakker", "email": "j.bakker@regenboog.nl", "phone": "0321 654321"},
  "activity": {"title": f"Respectles groep 7/8 ({i})", "description": "Gastles over respect",
               "date": f"2017-11-{6 + i % 5:02d}", "starts_at": "09:00", "ends_at": "11:30",
               "location": "Lijsterbeslaan 2", "kern": "dronten", "expected_participants": 54,
               "age_min": 10, "age_max": 12, "open_to_public": False, "guest_lesson_wanted": True}}))
PY
)"
  id="$(curl -fs -X POST "$URL/respect-week/2017/activities" -H 'Content-Type: application/json' \
    --data "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)" || continue
  etag="$(curl -fsI "$URL/admin/respect-week/2017/activities/$id" -H "Authorization: Bearer $TOKEN" |
    tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')"
  curl -fs -o /dev/null -X POST "$URL/admin/respect-week/2017/activities/$id/review" \
    -H "Authorization: Bearer $TOKEN" -H "If-Match: $etag" -H 'Content-Type: application/json' \
    --data '{"action": "publish", "reason": "bench"}' && seeded=$((seeded + 1))
done
items="$(curl -fs "$URL/respect-week/2017/activities" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))' 2>/dev/null || echo "?")"

run_wrk "GET /respect-week/2017/activities (public programme, $items item(s) on the first page; $seeded published)" \
  "$URL/respect-week/2017/activities"
RPS_PROGRAMME="$LAST_RPS"
ics_etag="$(curl -fsI "$URL/respect-week/2017/program.ics" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')"
run_wrk "GET /respect-week/2017/program.ics (the calendar feed, every poll in full)" \
  "$URL/respect-week/2017/program.ics"
run_wrk "GET /respect-week/2017/program.ics with If-None-Match (a calendar that polls again: 304)" \
  -H "If-None-Match: $ics_etag" "$URL/respect-week/2017/program.ics"
RPS_304="$LAST_RPS"
run_wrk "GET /evenementen/aanvragen (the permit form page, rendered)" \
  "$URL/evenementen/aanvragen"
run_wrk "GET /week-van-respect/2017 (the programme page, $seeded published, rendered)" \
  "$URL/week-van-respect/2017"

echo
echo "== 4. POST /permits at a steady 500 req/s for 10 s (every request files a new application; its e-mail goes out as .eml)"
STEADY_OUT="$("$STEADY" "$URL/permits" tests/fixtures/zomerfestival.json 500 10)"
echo "  $STEADY_OUT"
P99_POST="$(echo "$STEADY_OUT" | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p')"
run_wrk "POST /permits flat out (Zomerfestival)" -s infra/bench/post_permits.lua "$URL/permits"

# ------------------------------------------------------------------ ratios --
ratio() { python3 -c "import sys; a, b = map(float, sys.argv[1:3]); print(f'{a / b:.2f}')" "$1" "$2"; }
pct() { python3 -c "import sys; a, b = map(float, sys.argv[1:3]); print(f'{100 * a / b:.0f} %')" "$1" "$2"; }
echo
echo "== 5. Against the floor (issue #15)"
printf '  %-44s %-14s %-14s %-8s %s\n' "what" "loket" "floor" "ratio" "goal"
printf '  %-44s %-14s %-14s %-8s %s\n' "Lambda init, permits" "$INIT_PERMITS ms" "$INIT_HELLO ms" "$(ratio "$INIT_PERMITS" "$INIT_HELLO")×" "≤ 1.5×"
printf '  %-44s %-14s %-14s %-8s %s\n' "Lambda init, respect_week" "$INIT_WVR ms" "$INIT_HELLO ms" "$(ratio "$INIT_WVR" "$INIT_HELLO")×" "≤ 1.5×"
printf '  %-44s %-14s %-14s %-8s %s\n' "first invocation, POST /permits (DynamoDB Local)" "$FIRST_POST ms" "-" "-" "-"
printf '  %-44s %-14s %-14s %-8s %s\n' "local start: exec → /health 200" "$START_LOKET ms" "$START_FLOOR ms" "$(ratio "$START_LOKET" "$START_FLOOR")×" "≤ 1.5×"
printf '  %-44s %-14s %-14s %-8s %s\n' "public programme, 20 items" "$RPS_PROGRAMME/s" "$RPS_FLOOR/s" "$(pct "$RPS_PROGRAMME" "$RPS_FLOOR")" "≥ 50 %"
printf '  %-44s %-14s %-14s %-8s %s\n' "calendar feed, 304" "$RPS_304/s" "$RPS_FLOOR/s" "$(pct "$RPS_304" "$RPS_FLOOR")" "-"
printf '  %-44s %-14s %-14s %-8s %s\n' "POST /permits at 500 req/s, p99 (embedded)" "$P99_POST ms" "-" "-" "≤ 5 ms"

echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); load before the run may skew the figures"
