#!/usr/bin/env bash
# Benchmark (not a test): prints
#   1. each Lambda function's stripped release binary size (cargo lambda build, the
#      architecture template.yaml declares) and the local binaries' sizes;
#   2. exec → first `GET /health` 200 of `loket serve` (embedded store) next to an
#      empty axum server built with the same release profile (examples/empty_axum.rs);
#   3. latency p50/p99 and throughput (wrk --latency, loopback only, bounded) of
#      POST /permits and GET /respect-week/2017/activities on the embedded store,
#      with the business clock fixed at LOKET_NOW=2017-03-01T10:00:00+01:00; and the
#      ICS feed with and without If-None-Match (304).
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

cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
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
cargo build --release --locked --quiet --bin loket --example empty_axum
RELEASE_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release"
LOKET="$RELEASE_DIR/loket"
EMPTY="$RELEASE_DIR/examples/empty_axum"

size() { numfmt --to=iec-i --suffix=B --format='%.1f' "$(stat -c %s "$1")"; }

echo
echo "== 1. Release binary sizes (stripped; profile.release: opt-level s, lto, codegen-units 1, panic abort)"
for b in $BINS; do
  printf '  %-28s %10s  (%s, Lambda bootstrap)\n' "$b" "$(size "$LAMBDA_TARGET_DIR/lambda/$b/bootstrap")" "$ARCH"
done
printf '  %-28s %10s  (%s, local server)\n' loket "$(size "$LOKET")" "$(uname -m)"
printf '  %-28s %10s  (%s, baseline)\n' empty_axum "$(size "$EMPTY")" "$(uname -m)"

# ---------------------------------------------------------------- start-up --
echo
echo "== 2. exec → first GET /health 200 ($START_RUNS runs each, loopback)"
PORT="$(free_port)"
printf '  %-28s ' "empty axum (baseline)"
LOKET_BIND="127.0.0.1:$PORT" python3 infra/bench/first_health.py "$START_RUNS" "$EMPTY"
printf '  %-28s ' "loket serve (embedded)"
# A fresh data folder: the first run creates the redb file, the others reopen it.
LOKET_BIND="127.0.0.1:$PORT" LOKET_DATA_DIR="$WORK/start-data" LOKET_NOW="$NOW" \
  LOKET_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123" RUST_LOG=warn \
  python3 infra/bench/first_health.py "$START_RUNS" "$LOKET" serve

# ------------------------------------------------------------------- load --
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

run_wrk() { # title, wrk args...
  local title="$1"
  shift
  echo
  echo "== 3. $title (wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, embedded store)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$WORK/wrk.out"
  awk '/^  Latency Distribution/ {d = 1; next} d && /%/ {print "  p" $1 "  " $2} /^Requests\/sec/ {print "  throughput " $2 " req/s"} /Non-2xx/ {print "  WARNING: " $0}' "$WORK/wrk.out" |
    grep -E 'p50%|p99%|throughput|WARNING' | sed 's/%//'
}

run_wrk "POST /permits (Zomerfestival; every request files a new application)" \
  -s infra/bench/post_permits.lua "$URL/permits"
run_wrk "GET /respect-week/2017/activities (public programme, $items item(s) on the first page; $seeded published)" \
  "$URL/respect-week/2017/activities"
ics_etag="$(curl -fsI "$URL/respect-week/2017/program.ics" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')"
run_wrk "GET /respect-week/2017/program.ics (the calendar feed, every poll in full)" \
  "$URL/respect-week/2017/program.ics"
run_wrk "GET /respect-week/2017/program.ics with If-None-Match (a calendar that polls again: 304)" \
  -H "If-None-Match: $ics_etag" "$URL/respect-week/2017/program.ics"
run_wrk "GET /evenementen/aanvragen (the permit form page, rendered)" \
  "$URL/evenementen/aanvragen"
run_wrk "GET /week-van-respect/2017 (the programme page, $seeded published, rendered)" \
  "$URL/week-van-respect/2017"

echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); load before the run may skew the figures"
