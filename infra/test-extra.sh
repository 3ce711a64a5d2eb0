#!/usr/bin/env bash
# The serverless part of the test command (infra/test.sh runs it last, with
# .venv/bin on PATH and DynamoDB Local at $AWS_ENDPOINT_URL_DYNAMODB):
#
#   1. cfn-lint and `sam validate --lint` on template.yaml (offline; must be clean);
#   2. `cargo lambda build --release` of every function binary template.yaml names,
#      for the architecture it declares, in one cargo invocation (shared crates
#      compile once);
#   3. `sam build` (BuildMethod rust-cargolambda; the same cargo target directory,
#      so it only packages what step 2 built): the artefacts `sam deploy` uploads;
#   4. infra/lambda-smoke.sh: those artefacts under the Lambda runtime emulator
#      against DynamoDB Local, with template.yaml's IAM enforced.
#
# Knobs: LOKET_LAMBDA_TARGET_DIR (cargo target dir of the Lambda build; default
# ~/.cache/loket/lambda-target, outside the clone, so that CI runs on one machine
# reuse compiled dependencies; a fresh machine simply builds them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0 # no calls home from sam

T0=$SECONDS
step() { echo "==> test-extra: $1 (at $((SECONDS - T0)) s)" >&2; }

step "cfn-lint template.yaml"
cfn-lint template.yaml

step "sam validate --lint"
sam validate --lint --template template.yaml --region eu-west-1

# What template.yaml asks for: the architecture and one binary per function.
read -r ARCH BINS < <(.venv/bin/python - <<'PY'
from cfnlint.decode import decode
t, _ = decode("template.yaml")
arch = t.get("Globals", {}).get("Function", {}).get("Architectures", ["x86_64"])[0]
bins = [r["Metadata"]["BuildProperties"]["Binary"] for r in t["Resources"].values()
        if r.get("Type") == "AWS::Serverless::Function"]
print(arch, " ".join(bins))
PY
)
BIN_ARGS=()
for b in $BINS; do BIN_ARGS+=(--bin "$b"); done

case "$ARCH" in
  arm64)
    step "rustup target add aarch64-unknown-linux-gnu"
    if rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
      rustup target add aarch64-unknown-linux-gnu; then
      ARCH_FLAG=--arm64
    else
      # The template still says arm64 (sam build on the deployer's machine builds
      # it); here only the x86_64 build can be proven.
      echo "test-extra: WARNING: the aarch64 standard library cannot be installed here;" \
        "building and smoke-testing x86_64 instead. The arm64 build is NOT proven." >&2
      ARCH_FLAG=--x86-64
    fi
    ;;
  x86_64) ARCH_FLAG=--x86-64 ;;
  *) echo "test-extra: unknown architecture $ARCH in template.yaml" >&2; exit 1 ;;
esac

LAMBDA_TARGET_DIR="${LOKET_LAMBDA_TARGET_DIR:-$HOME/.cache/loket/lambda-target}"
mkdir -p "$LAMBDA_TARGET_DIR"
step "cargo lambda build --release $ARCH_FLAG ${BIN_ARGS[*]} (target dir $LAMBDA_TARGET_DIR)"
BUILD_START=$SECONDS
# (cargo-lambda 1.9 rejects --target-dir; the environment variable works.)
CARGO_TARGET_DIR="$LAMBDA_TARGET_DIR" cargo lambda build --release --locked "$ARCH_FLAG" "${BIN_ARGS[@]}"
echo "test-extra: release build of $BINS took $((SECONDS - BUILD_START)) s" >&2
for b in $BINS; do
  ls -l "$LAMBDA_TARGET_DIR/lambda/$b/bootstrap" >&2
done

# arm64 binaries run here under user-mode QEMU with the arm64 C library.
if [[ "$ARCH_FLAG" == --arm64 && "$(uname -m)" != aarch64 ]] &&
  ! { command -v qemu-aarch64 >/dev/null && [[ -d /usr/aarch64-linux-gnu/lib ]]; }; then
  step "apt-get install qemu-user libc6-arm64-cross"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends qemu-user libc6-arm64-cross >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends qemu-user libc6-arm64-cross >/dev/null
  }
fi

if [[ "$ARCH_FLAG" == --x86-64 && "$ARCH" == arm64 ]]; then
  # sam build would need the aarch64 target too: smoke-test cargo lambda's output.
  echo "test-extra: WARNING: skipping sam build (no aarch64 target here)" >&2
  SMOKE_DIR="$LAMBDA_TARGET_DIR/lambda"
else
  SAM_BUILD_DIR="$(mktemp -d)"
  trap 'rm -rf "$SAM_BUILD_DIR"' EXIT
  step "sam build (into $SAM_BUILD_DIR)"
  CARGO_TARGET_DIR="$LAMBDA_TARGET_DIR" sam build --config-file infra/samconfig.toml \
    --build-dir "$SAM_BUILD_DIR" >"$SAM_BUILD_DIR.log" 2>&1 || { cat "$SAM_BUILD_DIR.log" >&2; exit 1; }
  rm -f "$SAM_BUILD_DIR.log"
  SMOKE_DIR="$SAM_BUILD_DIR"
fi

step "Lambda functions under the runtime emulator (infra/lambda-smoke.sh)"
bash infra/lambda-smoke.sh "$SMOKE_DIR"

step "done"
