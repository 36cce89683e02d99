#!/usr/bin/env bash
# The README's first command: plan, deploy, outputs, one change and teardown of the healthcare pipeline
# against a local AWS emulator (moto) on a free loopback port. No AWS account is touched:
# every call goes to 127.0.0.1, with dummy credentials.
#
# Sourced (`. scripts/demo.sh`), it only defines its functions (the tests check `step`).
set -euo pipefail

# A heading: bold on a terminal, plain into a pipe or a file, and never with NO_COLOR set
# (https://no-color.org).
step() {
  if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    printf '\n\033[1m== %s\033[0m\n' "$*"
  else
    printf '\n== %s\n' "$*"
  fi
}

main() {
  local bin=${1:?usage: demo.sh path/to/ironplan}
  cd "$(dirname "$0")/.."

  local port state log
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  state=$(mktemp -d)
  log=$(mktemp)
  # moto runs no containers: it reports 2 running tasks per ECS service (the plan's desired count);
  # it knows AWS managed IAM policies only when asked.
  MOTO_ECS_SERVICE_RUNNING=2 MOTO_IAM_LOAD_MANAGED_POLICIES=true .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  moto=$!
  cleanup_files=("$state" "$log")
  trap cleanup EXIT
  for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done

  export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export IRONPLAN_STATE_DIR="$state"
  # The endpoint is moto: the explicit signal that lets ironplan accept moto's documented gaps.
  export IRONPLAN_EMULATOR=moto
  unset AWS_PROFILE

  step "ironplan plan (dry run: no AWS call)"
  "$bin" plan
  step "ironplan deploy (emulator on 127.0.0.1:$port)"
  "$bin" deploy
  step "ironplan outputs"
  "$bin" outputs
  # Day two: keep the VPC flow logs six years instead of one.
  local changed="$state/changed.toml"
  sed 's/^retention_in_days = 365$/retention_in_days = 2192/' plans/healthcare-pipeline.toml >"$changed"
  step "a change: ironplan plan shows it against the state (no AWS call)"
  "$bin" plan "$changed"
  step "ironplan deploy applies it in place"
  "$bin" deploy "$changed"
  step "ironplan teardown"
  "$bin" teardown "$changed"
  step "done: the emulator is stopped, nothing was left behind"
}

cleanup() {
  kill "$moto" 2>/dev/null || true
  wait "$moto" 2>/dev/null || true
  rm -rf "${cleanup_files[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
