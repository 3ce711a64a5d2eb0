#!/usr/bin/env bash
# The Lambda path, proven locally: each function's deployable binary (as built by
# `cargo lambda build --release`) runs under cargo lambda's Lambda runtime emulator
# (`cargo lambda watch --only-lambda-apis`) against DynamoDB Local, and gets one
# API Gateway HTTP API v2 event per route group through `cargo lambda invoke
# --data-file` (fixtures in tests/fixtures/lambda_smoke_*.json):
#
#   Permits      POST /permits                     → 201, the worked example's leges
#   RespectWeek  GET  /respect-week/editions       → 200, the 2017 edition
#                POST /respect-week/2017/activities → 201, WVR-2017-0001
#                GET  /respect-week/2017/activities → 200, the (empty) programme
#   Admin        GET  /admin/leges/coverage?year=  → 200 with a real signed staff JWT
#                                                    in Authorization and the claims
#                                                    API Gateway's JWT authorizer adds;
#                                                    401 when the token is signed by
#                                                    another key (in-service check)
#   Purge        the schedule's event, its clock a year after the 2017 edition
#                                                  → the registration's contact erased
#   Notify       the outbox INSERT records read from DynamoDB Local's stream (keys
#                only, filtered as template.yaml's FilterCriteria) → both
#                confirmations of receipt sent through SES v2 to moto's server
#                                                  (moto from PyPI, in .venv)
#
# Each function reaches DynamoDB Local only through examples/iam_proxy.rs, which
# enforces that function's IAM statements from template.yaml with the IAM model
# tests/template.rs checks them with (tests/common/iam.rs): a request its role would
# not be allowed fails the smoke test. At the end, requests outside a policy are sent
# through it on purpose to show that it refuses them.
#
#   infra/lambda-smoke.sh DIR   # DIR/<Function>/bootstrap (`sam build`'s layout) or
#                               # DIR/<binary>/bootstrap (`cargo lambda build`'s)
#
# Needs AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local) and .venv/bin (cargo-lambda,
# cfn-lint's Python, boto3) as infra/test.sh sets them up. arm64 binaries on an x86_64
# host run under qemu-aarch64 (Debian's qemu-user, with libc6-arm64-cross).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LAMBDA_DIR="${1:?usage: $0 LAMBDA_DIR}"
: "${AWS_ENDPOINT_URL_DYNAMODB:?set AWS_ENDPOINT_URL_DYNAMODB to DynamoDB Local}"
PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || { echo "lambda-smoke.sh: run infra/tools.sh install first" >&2; exit 1; }

FUNCTIONS=(Permits:permits RespectWeek:respect_week Admin:admin Purge:purge Notify:notify)
NOW="2017-03-01T10:00:00+01:00"
# 00:05 local, just after the 2017 edition's contact data became due for erasure
# (00:00 local, 365 days after the end of its last day, 2017-11-12).
PURGE_NOW="2018-11-13T00:05:00+01:00"
TABLE="loket-smoke-$$-$RANDOM"
ISSUER="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_smoke"
AUDIENCE="loket-smoke-client"
JWT_SECRET="lambda-smoke-secret-$RANDOM-$RANDOM-$RANDOM-0123456789abcdef"
RUN="$(mktemp -d)"
PIDS=()
FUNCTION_PIDS=()
FAILURES=0

log() { echo "lambda-smoke: $*" >&2; }
fail() {
  log "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}

cleanup() {
  local rc=$? pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if ((rc != 0)); then
    for f in "$RUN"/*.log; do
      [[ -s "$f" ]] || continue
      echo "---- $(basename "$f") (last 40 lines)" >&2
      tail -n 40 "$f" >&2
    done
  fi
  rm -rf "$RUN"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() { # port, pid, what
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$2" 2>/dev/null || { log "$3 exited during start-up"; return 1; }
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  log "$3 did not listen on port $1 within 30 s"
  return 1
}

# The deployable binaries, and how to run them on this host.
bootstrap_of() { # logical name, binary
  if [[ -x "$LAMBDA_DIR/$1/bootstrap" ]]; then
    echo "$LAMBDA_DIR/$1/bootstrap"
  else
    echo "$LAMBDA_DIR/$2/bootstrap"
  fi
}
RUNNER=()
for spec in "${FUNCTIONS[@]}"; do
  boot="$(bootstrap_of "${spec%%:*}" "${spec#*:}")"
  [[ -x "$boot" ]] || { log "no $boot: build it first"; exit 1; }
done
if file -b "$(bootstrap_of Permits permits)" | grep -q 'aarch64' && [[ "$(uname -m)" != aarch64 ]]; then
  command -v qemu-aarch64 >/dev/null && [[ -d /usr/aarch64-linux-gnu/lib ]] ||
    { log "arm64 binaries need qemu-aarch64 and /usr/aarch64-linux-gnu (apt-get install qemu-user libc6-arm64-cross)"; exit 1; }
  RUNNER=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
  log "running the arm64 binaries under qemu-aarch64"
fi

# The native CLI, for create-table and token, and the IAM-enforcing proxy: the
# `loket` binary and the `iam_proxy` example `cargo test` builds (a plain `cargo
# build` resolves features without the dev-dependencies and would compile much of
# the tree again).
read -r LOKET_CLI IAM_PROXY < <(cargo test --locked --no-run --message-format=json 2>"$RUN/cargo-test-no-run.log" |
  "$PY" -c '
import json, sys
found = {}
for line in sys.stdin:  # read it all: cargo must not meet a closed pipe
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and not m["profile"]["test"]:
        for name, kind in (("loket", "bin"), ("iam_proxy", "example")):
            if t.get("name") == name and kind in t.get("kind", []):
                found[name] = m["executable"]
print(found.get("loket", "-"), found.get("iam_proxy", "-"))
') || true
[[ -x "$LOKET_CLI" && -x "$IAM_PROXY" ]] ||
  { cat "$RUN/cargo-test-no-run.log" >&2; log "could not build the loket CLI and the IAM proxy"; exit 1; }

export AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
unset AWS_PROFILE AWS_SESSION_TOKEN

log "creating table $TABLE (loket create-table)"
LOKET_STORE=dynamodb LOKET_TABLE="$TABLE" "$LOKET_CLI" create-table >"$RUN/create-table.log" 2>&1 ||
  { cat "$RUN/create-table.log" >&2; exit 1; }

# The table create-table made is the table template.yaml declares (boto3 comes
# with the SAM CLI in .venv).
if "$PY" - "$TABLE" <<'PY' >&2; then
import os, sys
import boto3
from cfnlint.decode import decode
t, _ = decode("template.yaml")
want = next(r for r in t["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")["Properties"]
ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"], region_name="eu-west-1")
got = ddb.describe_table(TableName=sys.argv[1])["Table"]
ttl = ddb.describe_time_to_live(TableName=sys.argv[1])["TimeToLiveDescription"]
keys = lambda ks: [(k["AttributeName"], k["KeyType"]) for k in ks]
attrs = lambda a: sorted((x["AttributeName"], x["AttributeType"]) for x in a)
gsis = lambda g: sorted((i["IndexName"], tuple(keys(i["KeySchema"])), i["Projection"]["ProjectionType"]) for i in g)
diffs = []
for what, a, b in [
    ("key schema", keys(want["KeySchema"]), keys(got["KeySchema"])),
    ("attributes", attrs(want["AttributeDefinitions"]), attrs(got["AttributeDefinitions"])),
    ("GSIs", gsis(want["GlobalSecondaryIndexes"]), gsis(got.get("GlobalSecondaryIndexes", []))),
    ("LSIs", [], got.get("LocalSecondaryIndexes", [])),
    ("billing", want["BillingMode"], got.get("BillingModeSummary", {}).get("BillingMode")),
    ("TTL", want["TimeToLiveSpecification"]["AttributeName"], ttl.get("AttributeName")),
    ("stream", want["StreamSpecification"]["StreamViewType"],
     got.get("StreamSpecification", {}).get("StreamViewType")),
]:
    if a != b:
        diffs.append(f"{what}: template {a} != create-table {b}")
if diffs:
    print("\n".join(diffs))
sys.exit(1 if diffs else 0)
PY
  log "ok: the table loket create-table made equals template.yaml's"
else
  fail "the table loket create-table made differs from template.yaml's"
fi

# SES v2, emulated by moto: the sender is a verified identity there, and the
# configuration set exists, as template.yaml's parameters require on AWS.
MOTO_PORT="$(free_port)"
log "starting moto's server (SES v2) on 127.0.0.1:$MOTO_PORT"
"$ROOT/.venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$RUN/moto.log" 2>&1 &
PIDS+=($!)
wait_for_port "$MOTO_PORT" "${PIDS[-1]}" "moto_server"
"$PY" - "$MOTO_PORT" <<'PY' >&2 || { log "could not set up SES in moto"; exit 1; }
import sys
import boto3
ses = boto3.client("sesv2", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="eu-west-1")
ses.create_email_identity(EmailIdentity="evenementen@dronten.nl")
ses.create_configuration_set(ConfigurationSetName="loket-smoke")
PY

log "starting the IAM-enforcing proxy (DynamoDB, and SES v2 in front of moto)"
: >"$RUN/denials.txt"
: >"$RUN/requests.txt"
IAM_PROXY_SES_UPSTREAM="http://127.0.0.1:$MOTO_PORT" \
  IAM_PROXY_PARAMETERS="MailIdentity=dronten.nl,SesConfigurationSet=loket-smoke" \
  "$IAM_PROXY" template.yaml "$AWS_ENDPOINT_URL_DYNAMODB" "$RUN/denials.txt" \
  "$RUN/requests.txt" >"$RUN/proxy.port" 2>"$RUN/proxy.log" &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do [[ -s "$RUN/proxy.port" ]] && break; sleep 0.1; done
PROXY_PORT="$(cat "$RUN/proxy.port")"
[[ -n "$PROXY_PORT" ]] || { log "the IAM proxy did not start"; exit 1; }

EMU_PORT="$(free_port)"
log "starting the Lambda runtime emulator on 127.0.0.1:$EMU_PORT"
cargo-lambda lambda watch --only-lambda-apis --ignore-changes --invoke-address 127.0.0.1 \
  --invoke-port "$EMU_PORT" >"$RUN/emulator.log" 2>&1 &
PIDS+=($!)
wait_for_port "$EMU_PORT" "${PIDS[-1]}" "cargo lambda watch"

for spec in "${FUNCTIONS[@]}"; do
  logical="${spec%%:*}" bin="${spec#*:}"
  now="$NOW"
  [[ "$bin" == purge ]] && now="$PURGE_NOW"
  # The environment template.yaml gives the function, plus the local stand-ins;
  # the access key id names the function to the IAM proxy.
  env -i PATH="$PATH" HOME="$HOME" RUST_LOG=info RUST_BACKTRACE=1 \
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$EMU_PORT/.rt/$bin" \
    AWS_LAMBDA_FUNCTION_NAME="$bin" AWS_LAMBDA_FUNCTION_VERSION=1 \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
    AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID="$logical" AWS_SECRET_ACCESS_KEY=smoke \
    AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$PROXY_PORT" \
    LOKET_STORE=dynamodb LOKET_TABLE="$TABLE" LOKET_NOW="$now" \
    LOKET_CURSOR_KEY="lambda-smoke-cursor-key" \
    LOKET_JWT_SECRET="$JWT_SECRET" LOKET_JWT_ISSUER="$ISSUER" LOKET_JWT_AUDIENCE="$AUDIENCE" \
    AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$PROXY_PORT" LOKET_SES_CONFIGURATION_SET=loket-smoke \
    LOKET_PUBLIC_URL=https://loket.dronten.nl \
    "${RUNNER[@]}" "$(bootstrap_of "$logical" "$bin")" >"$RUN/$bin.log" 2>&1 &
  PIDS+=($!)
  FUNCTION_PIDS+=("$bin:$!")
done

# Init is over when a function long-polls the runtime API for its first event; by
# then it must not have sent a single AWS request (cold start: no AWS call in init).
for entry in "${FUNCTION_PIDS[@]}"; do
  bin="${entry%%:*}" pid="${entry#*:}"
  for ((i = 0; i < 600; i++)); do
    ss -Htnp state established "( dport = :$EMU_PORT )" 2>/dev/null | grep -q "pid=$pid," && break
    kill -0 "$pid" 2>/dev/null || { log "$bin exited during init"; exit 1; }
    sleep 0.1
  done
  ss -Htnp state established "( dport = :$EMU_PORT )" 2>/dev/null | grep -q "pid=$pid," ||
    { log "$bin did not poll the runtime API within 60 s"; exit 1; }
done
if [[ -s "$RUN/requests.txt" ]]; then
  fail "AWS requests during init (before the first event):"
  cat "$RUN/requests.txt" >&2
else
  log "ok: no function sent an AWS request during init"
fi

# A real signed staff token, and the claims API Gateway's JWT authorizer would put
# in requestContext.authorizer.jwt.claims (all values as strings; arrays as "[a b]").
TOKEN="$(LOKET_JWT_SECRET="$JWT_SECRET" LOKET_JWT_ISSUER="$ISSUER" LOKET_JWT_AUDIENCE="$AUDIENCE" \
  "$LOKET_CLI" token --sub smoke 2>/dev/null)"
[[ "$TOKEN" == *.*.* ]] || { log "loket token did not print a JWT: $TOKEN"; exit 1; }
# The same request with a token signed by another key (as if the authorizer had let
# it through): the function's own check must refuse it.
FORGED="$(LOKET_JWT_SECRET="forged-$JWT_SECRET" LOKET_JWT_ISSUER="$ISSUER" LOKET_JWT_AUDIENCE="$AUDIENCE" \
  "$LOKET_CLI" token --sub smoke 2>/dev/null)"
for pair in "$TOKEN:admin_coverage" "$FORGED:admin_coverage_forged"; do
  "$PY" - "${pair%%:*}" tests/fixtures/lambda_smoke_admin_coverage.json "$RUN/${pair#*:}.json" <<'PY'
import base64, json, sys
token, src, dst = sys.argv[1:4]
payload = token.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
as_apigw = {k: "[" + " ".join(map(str, v)) + "]" if isinstance(v, list) else str(v) for k, v in claims.items()}
event = json.load(open(src))
event["headers"]["authorization"] = "Bearer " + token
event["requestContext"]["authorizer"]["jwt"]["claims"] = as_apigw
json.dump(event, open(dst, "w"))
PY
done

invoke() { # binary, event file, out file
  if ! timeout 120 cargo-lambda lambda invoke "$1" --invoke-address 127.0.0.1 \
    --invoke-port "$EMU_PORT" --data-file "$2" --output-format json >"$3" 2>"$3.err"; then
    log "cargo lambda invoke $1 --data-file $2 failed: $(cat "$3.err")"
    return 1
  fi
}

# check NAME RESPONSE_FILE PYTHON_ASSERTIONS — the response is `r`, its status code
# `status`, its JSON body `b`.
check() {
  if ! "$PY" - "$2" "$3" <<'PY' 2>>"$RUN/checks.log"; then
import json, sys
r = json.load(open(sys.argv[1]))
http = isinstance(r, dict) and "statusCode" in r
b = json.loads(r["body"]) if http and r.get("body") else None
status = r.get("statusCode") if http else None
try:
    exec(sys.argv[2])
except AssertionError as e:
    print(f"{e}\nresponse: {json.dumps(r)[:2000]}", file=sys.stderr)
    sys.exit(1)
PY
    fail "$1 (see above)"
    tail -n 5 "$RUN/checks.log" >&2
  else
    log "ok: $1"
  fi
}

invoke permits tests/fixtures/lambda_smoke_post_permits.json "$RUN/post_permits.out" || exit 1
check "Permits POST /permits → 201 with the worked example's leges" "$RUN/post_permits.out" '
assert status == 201, f"status {status}, wanted 201"
assert r["headers"]["location"] == "/permits/" + b["id"], r["headers"].get("location")
assert b["reference"] == "EV-2017-0001", b["reference"]
assert b["category"] == "C" and b["leges"]["total_cents"] == 146300, b["leges"]
assert b["access_token"], "an access token"
'

invoke respect_week tests/fixtures/lambda_smoke_get_editions.json "$RUN/editions.out" || exit 1
check "RespectWeek GET /respect-week/editions → 200 with 2017" "$RUN/editions.out" '
assert status == 200, f"status {status}, wanted 200"
assert any(e["year"] == 2017 and e["starts_on"] == "2017-11-06" for e in b), b
'

invoke respect_week tests/fixtures/lambda_smoke_post_activity.json "$RUN/post_activity.out" || exit 1
check "RespectWeek POST /respect-week/2017/activities → 201 WVR-2017-0001" "$RUN/post_activity.out" '
assert status == 201, f"status {status}, wanted 201"
assert b["reference"] == "WVR-2017-0001" and b["status"] == "registered", b
assert b["access_token"], "an access token"
'

invoke respect_week tests/fixtures/lambda_smoke_get_programme.json "$RUN/programme.out" || exit 1
check "RespectWeek GET /respect-week/2017/activities → 200, nothing published yet" "$RUN/programme.out" '
assert status == 200, f"status {status}, wanted 200"
assert b["items"] == [] and b["next_cursor"] is None, b
'

invoke admin "$RUN/admin_coverage.json" "$RUN/admin_coverage.out" || exit 1
check "Admin GET /admin/leges/coverage (staff JWT) → 200 counting the new application" "$RUN/admin_coverage.out" '
assert status == 200, f"status {status}, wanted 200"
assert b["year"] == 2017 and b["imposed_cents"] == 146300 and b["net_cents"] == 146300, b
assert b["by_category"]["C"]["count"] == 1, b["by_category"]
'

invoke admin "$RUN/admin_coverage_forged.json" "$RUN/admin_coverage_forged.out" || exit 1
check "Admin with a token signed by another key → 401, whatever the authorizer context says" "$RUN/admin_coverage_forged.out" '
assert status == 401, f"status {status}, wanted 401"
assert r["headers"].get("www-authenticate", "").startswith("Bearer"), r["headers"]
'

invoke purge tests/fixtures/lambda_smoke_purge_schedule.json "$RUN/purge.out" || exit 1
check "Purge (scheduled event, 2018-11-13 00:05) → the 2017 registration's contact data erased" "$RUN/purge.out" '
assert r["contacts_erased"] == 1, r
'

# What Lambda's stream poller would hand the notify function: the table's stream
# records (keys only) that template.yaml's FilterCriteria lets through.
if "$PY" - "$TABLE" "$RUN/stream_event.json" <<'PY' >&2; then
import json, os, sys
import boto3
from cfnlint.decode import decode
table, out = sys.argv[1:3]
endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
arn = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1").describe_table(
    TableName=table)["Table"]["LatestStreamArn"]
streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="eu-west-1")
records = []
for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records += streams.get_records(ShardIterator=it)["Records"]
t, _ = decode("template.yaml")
pattern = json.loads(t["Resources"]["Notify"]["Properties"]["Events"]["NewMessages"]
                     ["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
prefix = pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"]
def passes(r):
    return (r["eventName"] in pattern["eventName"]
            and r["dynamodb"]["Keys"]["pk"]["S"].startswith(prefix))
chosen = [r for r in records if passes(r)]
assert all("NewImage" not in r["dynamodb"] for r in records), "keys only in the stream"
event = {"Records": [{"eventID": r["eventID"], "eventName": r["eventName"],
                      "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
                      "dynamodb": {"Keys": r["dynamodb"]["Keys"],
                                   "StreamViewType": r["dynamodb"]["StreamViewType"],
                                   "SequenceNumber": r["dynamodb"]["SequenceNumber"]}}
                     for r in chosen]}
json.dump(event, open(out, "w"))
print(f"stream: {len(records)} records, {len(chosen)} pass the filter")
sys.exit(0 if len(chosen) == 2 else 1)
PY
  invoke notify "$RUN/stream_event.json" "$RUN/notify.out" || exit 1
  check "Notify (two outbox records from the stream) → two messages sent" "$RUN/notify.out" '
assert r == {"sent": 2}, r
'
  if "$PY" - "$MOTO_PORT" <<'PY' >&2; then
import json, sys, urllib.request
data = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json"))
raw = data["ses"]["RawMessage"]
got = sorted((m["destinations"][0], [l for l in m["raw_data"].split("\r\n") if l.startswith("Subject:")][0]) for m in raw)
want = [("info@zomerfest.nl", "Subject: Ontvangstbevestiging EV-2017-0001: Zomerfestival"),
        ("j.bakker@regenboog.nl", "Subject: Aanmelding ontvangen WVR-2017-0001: Respectles groep 7/8")]
print(f"SES (moto) received: {got}")
sys.exit(0 if got == want else 1)
PY
    log "ok: SES (moto) received both confirmations of receipt"
  else
    fail "SES (moto) did not receive the two confirmations of receipt"
  fi
else
  fail "the stream did not hold the two outbox records"
fi

if [[ -s "$RUN/denials.txt" ]]; then
  fail "a function needed more than template.yaml allows it:"
  cat "$RUN/denials.txt" >&2
fi
for spec in "${FUNCTIONS[@]}"; do
  bin="${spec#*:}"
  if grep -qiE 'panicked|AccessDenied' "$RUN/$bin.log"; then
    fail "$bin logged a panic or an access denial"
  fi
done

# The proxy does refuse: requests outside Permits' policy, sent as its DynamoDB and
# SES clients would, come back AccessDeniedException and are recorded as denials,
# one each (a transaction is refused whole when one part is not allowed).
: >"$RUN/denials.txt"
if "$PY" - "$PROXY_PORT" "$TABLE" <<'PY' >&2; then
import sys
import boto3
from botocore.exceptions import ClientError
port, table = sys.argv[1:3]
ddb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-west-1",
                   aws_access_key_id="Permits", aws_secret_access_key="smoke")
key = lambda pk: {"pk": {"S": pk}, "sk": {"S": "doc"}}
probes = {
    "list every application (Query on gsi1)": lambda: ddb.query(
        TableName=table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": "permits"}}),
    "read a registration (GetItem outside its leading keys)": lambda: ddb.get_item(
        TableName=table, Key=key("registration#smoke")),
    "move the Week van Respect summary inside a transaction": lambda: ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": key("permit#smoke")}},
            {"Update": {"TableName": table, "Key": key("agg#wvr-summary#2017"),
                        "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ]),
}
ses = boto3.client("sesv2", endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-west-1",
                   aws_access_key_id="Permits", aws_secret_access_key="smoke")
raw = b"From: Gemeente Dronten <evenementen@dronten.nl>\r\nTo: a@example.nl\r\nSubject: x\r\n\r\nx"
probes["send e-mail through SES (only Notify may)"] = lambda: ses.send_email(
    Content={"Raw": {"Data": raw}}, ConfigurationSetName="loket-smoke")
failed = 0
for what, send in probes.items():
    try:
        send()
        print(f"NOT refused: Permits may {what}")
        failed += 1
    except ClientError as e:
        if e.response["Error"]["Code"] != "AccessDeniedException":
            print(f"{what}: {e.response['Error']}, wanted AccessDeniedException")
            failed += 1
sys.exit(1 if failed else 0)
PY
  if [[ "$(wc -l <"$RUN/denials.txt")" -eq 4 ]]; then
    log "ok: the IAM proxy refused 4 requests outside Permits' policy:"
    sed 's/^/lambda-smoke:   /' "$RUN/denials.txt" >&2
  else
    fail "the IAM proxy refused, but recorded $(wc -l <"$RUN/denials.txt") denials, wanted 4:"
    cat "$RUN/denials.txt" >&2
  fi
else
  fail "the IAM proxy let through a request outside Permits' policy (see above)"
fi

if ((FAILURES > 0)); then
  log "$FAILURES check(s) failed"
  exit 1
fi
log "all functions answered as expected under the Lambda emulator (IAM as in template.yaml)"
