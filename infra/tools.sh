#!/usr/bin/env bash
# Installs the Python-packaged command-line tools (cargo-lambda, cfn-lint, sam,
# schemathesis) into a virtualenv at <repo>/.venv, pinned by
# infra/requirements-tools.txt.
#
#   infra/tools.sh install   # idempotent; a no-op when the stamp matches the pins
#
# Use the tools with PATH="<repo>/.venv/bin:$PATH" (infra/test.sh does that).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQS="$ROOT/infra/requirements-tools.txt"
# The stamp holds a copy of the requirement list the venv was last built from,
# so changing a pin triggers a re-install and nothing else does.
STAMP="$VENV/.loket-tools.stamp"
PYTHON="${PYTHON:-python3}"

usage() { echo "usage: $0 install" >&2; exit 2; }

is_current() {
  [[ -f "$STAMP" ]] && cmp -s "$STAMP" "$REQS" &&
    [[ -x "$VENV/bin/cargo-lambda" && -x "$VENV/bin/cfn-lint" && -x "$VENV/bin/sam" &&
      -x "$VENV/bin/schemathesis" && -x "$VENV/bin/openapi-spec-validator" &&
      -x "$VENV/bin/aiosmtpd" && -x "$VENV/bin/moto_server" ]]
}

install() {
  if is_current; then
    echo "tools.sh: tools already installed in $VENV" >&2
    return 0
  fi
  local start=$SECONDS
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "tools.sh: creating virtualenv $VENV" >&2
    "$PYTHON" -m venv "$VENV"
  fi
  echo "tools.sh: installing pinned tools from $REQS" >&2
  # stdout of pip goes to stderr: callers may capture our stdout.
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQS" >&2
  # Cheap smoke check that the entry points actually run before stamping.
  "$VENV/bin/cargo-lambda" lambda --version >/dev/null
  "$VENV/bin/cfn-lint" --version >/dev/null
  "$VENV/bin/sam" --version >/dev/null
  "$VENV/bin/schemathesis" --version >/dev/null
  "$VENV/bin/openapi-spec-validator" --help >/dev/null
  "$VENV/bin/aiosmtpd" --version >/dev/null
  "$VENV/bin/moto_server" --help >/dev/null
  cp "$REQS" "$STAMP"
  echo "tools.sh: installed in $((SECONDS - start)) s" >&2
}

case "${1:-}" in
  install) install ;;
  *) usage ;;
esac
