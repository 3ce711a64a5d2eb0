#!/usr/bin/env bash
# The OpenAPI contract test: a property-based client generated from the document
# loket serves at GET /openapi.json (schemathesis, pinned in
# infra/requirements-tools.txt and installed into .venv by `infra/tools.sh install`).
#
# Starts `loket serve` on a free 127.0.0.1 port (never any other address) with a
# fresh temporary data folder, the embedded store, the business clock fixed at
# 2017-10-01 10:00 Europe/Amsterdam (Week van Respect 2017 registration is open and
# 2017 events lie ahead) and a random 48-character LOKET_JWT_SECRET; mints a staff
# token with `loket token`, which infra/schemathesis.toml sends as `Authorization:
# Bearer` on the staff routes; prepares one application that awaits its organiser's
# answer; runs every check in every phase (examples, coverage, fuzzing, and stateful,
# which walks the document's OpenAPI links; settings in infra/schemathesis.toml) and
# fails on any warning (such as "Missing test data"); prints how many test cases
# (= requests) were generated and exits non-zero on any failure or error schemathesis
# reports, on an empty run, or when the time cap is hit. The server is always stopped.
#
#   infra/schemathesis.sh [EXTRA schemathesis run OPTIONS]
#     e.g. infra/schemathesis.sh --include-path-regex '^/permits'
#          infra/schemathesis.sh --report ndjson,junit --report-dir "$PWD/st-report"
#     (schemathesis runs in a temporary folder: give report paths as absolute paths)
#
# Knobs (environment):
#   LOKET_BIN                  loket binary (default target/debug/loket, which
#                              `cargo test` leaves; built with
#                              `cargo build --locked --bin loket` only if missing)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 20:
#                              about 3-5 min on 2 cores; the text pattern is slow
#                              for Hypothesis to generate from)
#   SCHEMATHESIS_SEED          Hypothesis seed (default 20171001): the same seed
#                              and code generate the same requests
#   SCHEMATHESIS_TIMEOUT       wall-clock cap on the schemathesis run in seconds
#                              (default 1200); hitting it fails the run
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LOKET_BIN="${LOKET_BIN:-target/debug/loket}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
SEED="${SCHEMATHESIS_SEED:-20171001}"
TIME_CAP="${SCHEMATHESIS_TIMEOUT:-1200}"
ST="$ROOT/.venv/bin/schemathesis"
CONFIG="$ROOT/infra/schemathesis.toml"
HOST=127.0.0.1 # loopback only, by design: no knob

say() { echo "schemathesis.sh: $*" >&2; }

[[ -x "$ST" ]] || { say "$ST missing: run infra/tools.sh install"; exit 1; }
if [[ ! -x "$LOKET_BIN" ]]; then
  say "$LOKET_BIN missing: cargo build --locked --bin loket"
  cargo build --locked --bin loket
  LOKET_BIN=target/debug/loket
fi
LOKET_BIN="$(cd "$(dirname "$LOKET_BIN")" && pwd)/$(basename "$LOKET_BIN")"

WORK="$(mktemp -d)"
SERVER_PID=""
ST_PID=""
TAIL_PID=""
cleanup() {
  if [[ -n "$ST_PID" ]]; then
    kill "$ST_PID" 2>/dev/null || true # timeout relays it to schemathesis
    wait "$ST_PID" 2>/dev/null || true
  fi
  if [[ -n "$TAIL_PID" ]]; then
    kill "$TAIL_PID" 2>/dev/null || true
  fi
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$ROOT/.venv/bin/python" -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# 36 random bytes are exactly 48 base64 characters (URL-safe alphabet, no padding).
SECRET="$(head -c 36 /dev/urandom | base64 | tr '+/' '-_')"
# Only this secret may decide who is staff: no JWKS/issuer/audience from the caller.
unset LOKET_JWT_JWKS LOKET_JWT_ISSUER LOKET_JWT_AUDIENCE

# Start the server; a port taken between free_port and bind gets another try.
URL=""
for attempt in 1 2 3; do
  PORT="$(free_port)"
  LOKET_BIND="$HOST:$PORT" LOKET_DATA_DIR="$WORK/data" LOKET_STORE=embedded \
    LOKET_NOW="2017-10-01T10:00:00+02:00" LOKET_JWT_SECRET="$SECRET" LOKET_RATE_LIMIT=0 \
    RUST_LOG="${RUST_LOG:-warn}" "$LOKET_BIN" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 300; i++)); do # at most ~30 s
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      break
    fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$HOST:$PORT/health")" == 200 ]]; then
      URL="http://$HOST:$PORT"
      break
    fi
    sleep 0.1
  done
  [[ -n "$URL" ]] && break
  say "server did not answer GET /health with 200 (attempt $attempt); its log:"
  cat "$WORK/server.log" >&2
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
done
[[ -n "$URL" ]] || { say "could not start loket"; exit 1; }
say "loket ($LOKET_BIN) on $URL, business clock 2017-10-01T10:00:00+02:00"

# Fetch the document once, unhurried: a first build of it may take seconds in a
# debug binary, and schemathesis gives loading only its 10 s request timeout.
T0=$SECONDS
CODE="$(curl -s -o "$WORK/openapi.json" -w '%{http_code}' --max-time 120 "$URL/openapi.json" || true)"
if [[ "$CODE" != 200 ]]; then
  say "GET /openapi.json answered '$CODE' (in $((SECONDS - T0)) s); server log:"
  tail -n 40 "$WORK/server.log" >&2
  exit 1
fi
say "GET /openapi.json: 200, $(wc -c <"$WORK/openapi.json") bytes, first answer in $((SECONDS - T0)) s"
# The document itself must be valid OpenAPI 3.1 before anything is generated from it.
"$ROOT/.venv/bin/openapi-spec-validator" "$WORK/openapi.json" >&2 ||
  { say "GET /openapi.json is not a valid OpenAPI document"; exit 1; }

TOKEN="$(LOKET_JWT_SECRET="$SECRET" "$LOKET_BIN" token --sub schemathesis --hours 1)"
[[ -n "$TOKEN" ]] || { say "loket token printed nothing"; exit 1; }
# infra/schemathesis.toml sends it on the staff routes only: the organiser's routes
# get the access token their OpenAPI link hands on.
export LOKET_STAFF_TOKEN="$TOKEN"

# The organiser's and registrant's routes open with the access token handed out once
# in a 201. schemathesis generates a value for a bearer scheme it has no token for,
# and that value wins over the one a link hands on, so these routes are given items
# made here, each with its id and token (infra/schemathesis.toml):
#   LOKET_PERMIT_*        an application, to read and withdraw;
#   LOKET_INFO_*          one that awaits its organiser's answer (staff asked);
#   LOKET_REGISTRATION_*  a registration for 2017, to read and cancel.
post() { # URL BODY [curl options]: the 201/200 body, or fail
  local url="$1" body="$2"
  shift 2
  curl -sf -H 'Content-Type: application/json' -H 'Accept: application/json' --max-time 30 \
    "$@" "$URL$url" --data-binary "$body"
}
field() { "$ROOT/.venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
PERMIT='{"organiser": {"name": "Stichting Proef", "email": "proef@example.org", "phone": "0321 123456"},
 "event": {"name": "Proefmarkt", "description": "Een markt om het contract te toetsen.",
  "kern": "dronten", "address": "De Rede 1", "starts_at": "2018-06-02T10:00:00+02:00",
  "ends_at": "2018-06-02T17:00:00+02:00", "expected_visitors": 300, "amplified_music": false,
  "road_closure": false, "alcohol": "none", "largest_structure_m2": 0, "on_water": false,
  "fireworks": false, "commercial": false, "non_profit": true}}'
REGISTRATION='{"organisation": {"name": "OBS De Proef", "type": "primary_school"},
 "contact": {"name": "J. Proef", "email": "proef@example.org", "phone": "0321 654321"},
 "activity": {"title": "Respectkring", "description": "Een gesprek over respect.",
  "date": "2017-11-07", "starts_at": "09:00", "ends_at": "10:30", "location": "Aula",
  "kern": "dronten", "expected_participants": 25, "age_min": 8, "age_max": 10,
  "open_to_public": false, "guest_lesson_wanted": false}}'
export LOKET_PERMIT_ID LOKET_PERMIT_TOKEN LOKET_INFO_ID LOKET_INFO_TOKEN
export LOKET_REGISTRATION_ID LOKET_REGISTRATION_TOKEN
CREATED="$(post /permits "$PERMIT")" || { say "could not submit an application"; exit 1; }
LOKET_PERMIT_ID="$(field id <<<"$CREATED")"
LOKET_PERMIT_TOKEN="$(field access_token <<<"$CREATED")"
CREATED="$(post /respect-week/2017/activities "$REGISTRATION")" ||
  { say "could not register an activity"; exit 1; }
LOKET_REGISTRATION_ID="$(field id <<<"$CREATED")"
LOKET_REGISTRATION_TOKEN="$(field access_token <<<"$CREATED")"
CREATED="$(post /permits "$PERMIT")" || { say "could not submit an application"; exit 1; }
LOKET_INFO_ID="$(field id <<<"$CREATED")"
LOKET_INFO_TOKEN="$(field access_token <<<"$CREATED")"
VERSION="$(field version <<<"$CREATED")"
# A question is asked in review: start it, then ask, each on the version before it.
for DECISION in '{"action": "start_review"}' \
  '{"action": "request_info", "reason": "Waar komen de toiletten?"}'; do
  DECIDED="$(post "/admin/permits/$LOKET_INFO_ID/review" "$DECISION" \
    -H "Authorization: Bearer $TOKEN" -H "If-Match: \"$VERSION\"")" ||
    { say "staff could not decide $DECISION on $LOKET_INFO_ID"; exit 1; }
  VERSION="$(field version <<<"$DECIDED")"
done

say "$("$ST" --version): every check, max examples $MAX_EXAMPLES, seed $SEED, cap ${TIME_CAP}s"
T0=$SECONDS
# In $WORK so that Hypothesis/schemathesis caches never land in (or come from) the
# clone. In the background, with its output followed by tail, so that a TERM or INT
# sent to this script stops it at once (bash runs traps only between commands, but
# `wait` is interruptible); timeout passes the signal on to schemathesis.
: >"$WORK/schemathesis.out" # exists before tail looks
(cd "$WORK" && exec timeout --foreground -k 10 "$TIME_CAP" "$ST" --config-file "$CONFIG" \
  run "$URL/openapi.json" \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --no-color \
  "$@") >"$WORK/schemathesis.out" 2>&1 </dev/null &
ST_PID=$!
tail -n +1 -f --pid="$ST_PID" "$WORK/schemathesis.out" &
TAIL_PID=$!
RC=0
wait "$ST_PID" || RC=$?
ST_PID=""
wait "$TAIL_PID" || true
TAIL_PID=""
ELAPSED=$((SECONDS - T0))

# The summary: "Test cases:" then "  N generated, ..." and a closing "== ... in Xs ==" line.
GENERATED="$(sed -n 's/^ *\([0-9][0-9]*\) generated.*/\1/p' "$WORK/schemathesis.out" | tail -n 1)"
CLOSING="$(sed -n -E 's/^=+ (.* in [0-9.]+s) =+$/\1/p' "$WORK/schemathesis.out" | tail -n 1)"
echo "schemathesis: ${GENERATED:-?} test cases generated (one request each) in ${ELAPSED} s;" \
  "max examples $MAX_EXAMPLES, seed $SEED; result: ${CLOSING:-none} (exit $RC)"

if ((RC == 124 || RC == 137)); then
  say "FAILED: the run hit the ${TIME_CAP}s cap (SCHEMATHESIS_TIMEOUT)"
  exit 1
fi
if ((RC != 0)) || [[ -z "$GENERATED" || "$GENERATED" == 0 ]] ||
  grep -qE '[0-9]+ (failure|error)s?' <<<"$CLOSING"; then
  if grep -qE 'panicked|ERROR' "$WORK/server.log"; then
    say "server log (errors):"
    grep -E -A5 'panicked|ERROR' "$WORK/server.log" | tail -n 40 >&2
  fi
  say "FAILED (exit $RC); reproduce with: infra/schemathesis.sh (same SCHEMATHESIS_SEED)"
  exit 1
fi
