#!/usr/bin/env bash
# Sets up the virtual environment with the development tools, then runs the linters and the
# whole test suite. (The packaging check, scripts/check_dists.sh, runs in CI after it.)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${JACKFIELD_VENV:-.venv}
bash scripts/setup.sh "$venv"
"$venv/bin/ruff" check core plugins examples tests scripts bench
"$venv/bin/mypy"  # strict on core/, configured in pyproject.toml
"$venv/bin/mypy" --strict bench  # harness, workers, peers; g4f/LiteLLM live only in bench/.venvs
# Each provider distribution is type-checked on its own (separate packages, same bar).
for src in plugins/*/src examples/echoapi/src examples/ollama/src; do
  "$venv/bin/mypy" --strict "$src"
done
"$venv/bin/python" -m pytest "$@"
