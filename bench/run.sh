#!/usr/bin/env bash
# Runs jackfield's benchmarks on loopback and rewrites BENCHMARKS.md (see bench/run.py).
# Sets up the project venv as scripts/setup.sh does; the peers (g4f, LiteLLM) get their own
# venvs under bench/.venvs/, created by bench/run.py. Arguments go to bench/run.py
# (--rounds N, --seconds S, --no-peers, --report, --smoke: a seconds-long check of the harness
# that leaves BENCHMARKS.md alone).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${JACKFIELD_VENV:-.venv}
bash scripts/setup.sh "$venv"
exec "$venv/bin/python" bench/run.py "$@"
