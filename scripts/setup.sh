#!/usr/bin/env bash
# Creates (or refreshes) the virtual environment with the core, every plugin under plugins/ and
# the example third-party plugin, all editable. By default it adds the repository's own tools
# (the `dev` extra: ruff, mypy, the suite's test libraries, the packaging check); --runtime
# leaves them out, as the demo does.   Usage: scripts/setup.sh [--runtime] [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
core=".[dev]"
if [ "${1:-}" = "--runtime" ]; then
  core="."
  shift
fi
venv=${1:-${JACKFIELD_VENV:-.venv}}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
args=(-e "$core")
for plugin in plugins/*/ examples/echoapi/ examples/ollama/; do
  [ -f "$plugin/pyproject.toml" ] && args+=(-e "$plugin")
done
"$venv/bin/python" -m pip install --quiet "${args[@]}"
