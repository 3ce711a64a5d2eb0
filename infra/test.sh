#!/usr/bin/env bash
# THE test command of loket (CI runs `bash .ci/run`, which execs this).
# Installs the pinned tools, starts an in-memory DynamoDB Local for the tests,
# then runs fmt, clippy, the whole test suite, a property-based client generated
# from the served OpenAPI document (infra/schemathesis.sh), plus infra/test-extra.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STARTED=$SECONDS
STEP="setup"
DDB_PORT=""

step() {
  STEP="$1"
  echo "==> $1" >&2
}

# Always stop the DynamoDB Local we started, and say where a failure happened.
on_exit() {
  local rc=$?
  if [[ -n "$DDB_PORT" ]]; then
    infra/dynamodb-local.sh stop "$DDB_PORT" || true
  fi
  if ((rc != 0)); then
    echo "test.sh: FAILED at step '$STEP' (exit $rc) after $((SECONDS - STARTED)) s" >&2
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "install DynamoDB Local"
infra/dynamodb-local.sh install
step "install tools (.venv)"
infra/tools.sh install

step "install LibreOffice Calc (headless, for the CSV test)"
if ! command -v soffice >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-calc-nogui >&2
fi

step "install Chromium and its WebDriver (headless, for the page tests)"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >&2
fi

step "install the pages' npm packages (NL Design System, axe-core)"
(cd web && npm ci --no-audit --no-fund --loglevel=error) >&2

step "start DynamoDB Local"
DDB_PORT="$(infra/dynamodb-local.sh start)"
echo "DynamoDB Local on 127.0.0.1:$DDB_PORT" >&2

# Point the AWS SDK at DynamoDB Local; the credentials are dummies it accepts.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT"
# Drop any real profile/session so nothing can reach a real account.
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
export AWS_REGION=eu-west-1
# Tests needing DynamoDB must fail, not skip, when it is unreachable (or, for
# those starting instances of their own, not installed).
export LOKET_TEST_DYNAMODB=required
# ... and the CSV test fails, not skips, without LibreOffice.
export LOKET_TEST_LIBREOFFICE=required
# ... and the page tests fail, not skip, without Chromium.
export LOKET_TEST_BROWSER=required
# ... and the e-mail tests fail, not skip, without aiosmtpd (infra/tools.sh).
export LOKET_TEST_SMTP=required
# ... and the SES test fails, not skips, without moto (infra/tools.sh).
export LOKET_TEST_SES=required
export PATH="$ROOT/.venv/bin:$PATH"

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo test"
# Plain `cargo test` (not --all-targets) so that doctests run too.
cargo test --workspace --locked
step "cargo test: the API suite again, on DynamoDB Local"
LOKET_TEST_STORE=dynamodb cargo test --locked --test api
step "schemathesis (the OpenAPI document is the contract)"
# The debug loket that `cargo test` built for the integration tests.
LOKET_BIN=target/debug/loket bash infra/schemathesis.sh

if [[ -f infra/test-extra.sh ]]; then
  step "infra/test-extra.sh"
  bash infra/test-extra.sh
fi

STEP="done"
echo "test.sh: OK (fmt, clippy, tests, schemathesis$([[ -f infra/test-extra.sh ]] && echo ', extra')) in $((SECONDS - STARTED)) s"
