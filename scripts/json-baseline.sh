#!/usr/bin/env bash
# Writes the JSON of every command on every fixture (and the demo) into OUT, so that two builds
# can be compared byte for byte: `scripts/json-baseline.sh BIN OUT`, then `diff -r OUT1 OUT2`.
# Used to prove that a refactoring changed no report.
set -euo pipefail
bin=$(realpath "$1")
out=$(realpath -m "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null NO_COLOR=1
mkdir -p "$HOME" "$out"
for scenario in "$here"/fixtures/*.toml; do
  name=$(basename "$scenario" .toml)
  repo="$work/$name"
  "$bin" fixture "$name" "$repo" >/dev/null
  run() { # label, args…
    local label=$1; shift
    set +e
    "$bin" -C "$repo" "$@" >"$out/$name.$label.json" 2>"$out/$name.$label.stderr"
    echo "exit $?" >>"$out/$name.$label.stderr"
    set -e
  }
  run audit audit --format json --fail-on never
  run hops audit --hops --format json --fail-on never
  run plan plan --format json --fail-on never
  run candidates candidates --format json
  run terminal audit --fail-on never
done
"$bin" demo --format json >"$out/demo.json" 2>"$out/demo.stderr" || echo "exit $?" >>"$out/demo.stderr"
