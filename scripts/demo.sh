#!/usr/bin/env bash
# Sets up the virtual environment, then runs the offline demo against loopback emulators.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${JACKFIELD_VENV:-.venv}
bash scripts/setup.sh --runtime "$venv"  # no development tools: the demo needs none
exec "$venv/bin/python" scripts/demo.py
