#!/usr/bin/env bash
# The packaging check: builds every distribution's sdist and wheel (the wheel from the sdist),
# checks the archives (scripts/check_dists.py), installs the wheels alone into a fresh virtual
# environment and, from an empty directory, runs what a user and a plugin author would run
# first: `jackfield models`, `jackfield emulate` + `jackfield chat`, and a test on the test
# kit's fixtures. A missing module, LICENSE or py.typed, or a wrong entry point fails it.
# Usage: scripts/check_dists.sh   (uses the development venv, JACKFIELD_VENV or .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venv=${JACKFIELD_VENV:-.venv}
"$venv/bin/python" -c 'import build, hatchling' 2>/dev/null || bash scripts/setup.sh "$venv"

work=$(mktemp -d "${TMPDIR:-/tmp}/jackfield-dists.XXXXXX")
emulator=""
cleanup() {
  if [ -n "$emulator" ]; then
    kill "$emulator" 2>/dev/null || true
    wait "$emulator" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "check_dists: $*" >&2
  exit 1
}

step() { echo "check_dists: $*"; }

step "building the sdists and wheels"
projects=(. plugins/*/ examples/echoapi/ examples/ollama/)
for project in "${projects[@]}"; do
  # Without isolation: the dev venv's hatchling builds, so nothing is fetched per build.
  "$venv/bin/python" -m build --no-isolation --outdir "$work/dist" "$project" \
    >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "building $project failed"; }
done
"$venv/bin/python" scripts/check_dists.py "$work/dist"

step "installing the wheels alone into a fresh virtual environment"
python3 -m venv "$work/venv"
core_wheel=$(ls "$work/dist"/jackfield-*.whl)
"$work/venv/bin/python" -m pip install --quiet "$core_wheel[testing]" \
  $(ls "$work/dist"/jackfield_*.whl)

# From an empty directory, with none of the developer's settings: only the wheels count.
mkdir "$work/run" "$work/home"
cd "$work/run"
clean=(env -i "PATH=$work/venv/bin:/usr/bin:/bin" "HOME=$work/home" "TMPDIR=$work")
exports=()
run() { "${clean[@]}" ${exports[@]+"${exports[@]}"} "$@"; }

step "jackfield models"
run jackfield models >"$work/models.txt" || { cat "$work/models.txt" >&2; fail "models failed"; }
for expected in "gpt-4 .*aichats" "gpt-4o-mini .*amigochat" "echo-1 .*echoapi"; do
  grep -q "^$expected" "$work/models.txt" \
    || { cat "$work/models.txt" >&2; fail "jackfield models lists no $expected"; }
done

step "jackfield emulate + jackfield chat"
# Not through run(): in the background a function gets a subshell, and $! would be that.
"${clean[@]}" jackfield emulate >"$work/emulate.txt" 2>&1 &
emulator=$!
for _ in $(seq 100); do
  [ "$(grep -c '^export JACKFIELD_.*_BASE_URL=' "$work/emulate.txt")" -ge 3 ] && break
  kill -0 "$emulator" 2>/dev/null || { cat "$work/emulate.txt" >&2; fail "emulate exited"; }
  sleep 0.2
done
[ "$(grep -c '^export JACKFIELD_.*_BASE_URL=' "$work/emulate.txt")" -ge 3 ] \
  || { cat "$work/emulate.txt" >&2; fail "emulate printed no base URL for every plugin"; }
# The printed lines are shell (shlex-quoted values, then a comment): let a shell read them.
while IFS= read -r assignment; do
  exports+=("$assignment")
done < <(grep '^export JACKFIELD_[A-Z0-9_]*=' "$work/emulate.txt" \
           | env -i bash -c 'while read -r line; do eval "$line"; done; env' \
           | grep '^JACKFIELD_')
reply=$(run jackfield chat -m amigochat/gpt-4o-mini --no-stream "hello from the wheels")
[[ $reply == *"You said: hello from the wheels"* ]] || fail "unexpected amigochat reply: $reply"
reply=$(run jackfield chat -m echoapi/echo-1 "streamed from the wheels")
[[ $reply == *"streamed from the wheels"* ]] || fail "unexpected echoapi reply: $reply"
kill "$emulator"
wait "$emulator" 2>/dev/null || true
emulator=""
exports=()

step "the test kit (jackfield[testing]) on an installed plugin's emulator"
cp "$repo/scripts/installed_kit_test.py" test_installed_kit.py
# Its report is shown only on failure: CI's last pytest summary stays the suite's own.
run python -m pytest -q -p no:cacheprovider -W error -o asyncio_default_fixture_loop_scope=function \
  test_installed_kit.py >"$work/kit.txt" 2>&1 || { cat "$work/kit.txt" >&2; fail "the test kit failed"; }
step "jackfield check (the conformance kit) on installed plugins, no test file"
run jackfield check echoapi aichats >"$work/check.txt" 2>&1 \
  || { cat "$work/check.txt" >&2; fail "jackfield check failed"; }
grep -q "^PASS echoapi stream/agree" "$work/check.txt" \
  || { cat "$work/check.txt" >&2; fail "jackfield check ran no echoapi case"; }
step "every distribution builds, installs and runs from its wheel"
