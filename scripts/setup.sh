#!/usr/bin/env bash
# Creates (or refreshes) the virtual environment with the core, every plugin under plugins/,
# the example third-party plugin and the test tools. Usage: scripts/setup.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-${JACKFIELD_VENV:-.venv}}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
args=(-e ".[test]")
for plugin in plugins/*/ examples/echoapi/; do
  [ -f "$plugin/pyproject.toml" ] && args+=(-e "$plugin")
done
"$venv/bin/python" -m pip install --quiet "${args[@]}"
