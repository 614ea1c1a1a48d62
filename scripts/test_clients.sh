#!/usr/bin/env bash
# Runs the real client libraries (openai, langchain-openai, pydantic-ai, openai-agents, litellm,
# llm, instructor, llama-index) against `jackfield serve` on loopback. They do not all resolve
# into one environment, so each group tests/clients/<group>/ has its own virtual environment,
# .venv-clients/<group> (git-ignored; JACKFIELD_CLIENTS_VENVS moves them), built from
# tests/clients/envs/<group>.txt plus the repository itself (editable). They stay out of
# tests/, whose every .py file the main suite reads. An environment is reinstalled only when
# its requirements or a pyproject.toml changed, so a second run goes straight to the tests.
#   Usage: scripts/test_clients.sh [GROUP...] [[--] PYTEST_ARGS...]   (default: every group)
# The first argument that starts with "-" begins the options given to each group's pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=tests/clients
venvs=${JACKFIELD_CLIENTS_VENVS:-.venv-clients}
python=${PYTHON:-python3}
uv_version=0.13.9  # the installer; pinned so that CI resolves the same way each run

groups=()
while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do
  groups+=("$1")
  shift
done
[ "${1:-}" = "--" ] && shift
if [ ${#groups[@]} -eq 0 ]; then
  for file in "$root"/envs/*.txt; do
    groups+=("$(basename "$file" .txt)")
  done
fi
for group in "${groups[@]}"; do
  if [ ! -f "$root/envs/$group.txt" ] || [ ! -d "$root/$group" ]; then
    echo "test_clients: no group '$group' (need $root/envs/$group.txt and $root/$group/)" >&2
    exit 2
  fi
done

# uv resolves and installs these environments in seconds where pip takes minutes; it comes
# from PyPI into a tools environment of its own. Without it, pip does the same work.
uv=""
if command -v uv >/dev/null 2>&1; then
  uv=$(command -v uv)
else
  tools=$venvs/_tools
  [ -x "$tools/bin/python" ] || "$python" -m venv "$tools"
  if [ -x "$tools/bin/uv" ] || "$tools/bin/python" -m pip install --quiet "uv==$uv_version"; then
    uv=$tools/bin/uv
  else
    echo "test_clients: could not install uv; installing with pip instead" >&2
  fi
fi

# The repository, editable, as scripts/setup.sh installs it (the core with its test kit and
# every plugin): the tests load the providers they use explicitly.
repo_args=(-e ".[testing]")
for plugin in plugins/*/ examples/echoapi/; do
  [ -f "$plugin/pyproject.toml" ] && repo_args+=(-e "$plugin")
done

stamp_of() {  # what an environment was built from; a change means reinstall
  cat "$root/envs/$1.txt" pyproject.toml plugins/*/pyproject.toml \
      examples/echoapi/pyproject.toml | sha256sum | cut -d' ' -f1
  "$python" --version
  echo "compiled"  # environments built before they were compiled get rebuilt
}

build() {
  local group=$1 venv=$venvs/$1
  local stamp
  stamp=$(stamp_of "$group")
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.jackfield-stamp" 2>/dev/null)" = "$stamp" ]; then
    return
  fi
  echo "test_clients: building $venv"
  rm -f "$venv/.jackfield-stamp"
  if [ -n "$uv" ]; then
    [ -x "$venv/bin/python" ] || "$uv" venv --quiet --python "$python" "$venv"
    "$uv" pip install --quiet --python "$venv/bin/python" "${repo_args[@]}" \
      -r "$root/envs/$group.txt"
  else
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet "${repo_args[@]}" -r "$root/envs/$group.txt"
  fi
  # uv leaves modules uncompiled and PYTHONDONTWRITEBYTECODE may be set (it is on CI's
  # machine): every run, and every `llm` command a test starts, would compile them again.
  "$venv/bin/python" -m compileall -q -j 0 "$venv/lib" >/dev/null
  printf '%s\n' "$stamp" >"$venv/.jackfield-stamp"
}

# litellm fetches its model cost map at import unless told to use the bundled copy; the
# tests talk to loopback only.
export LITELLM_LOCAL_MODEL_COST_MAP=True
failed=()
for group in "${groups[@]}"; do
  build "$group"
  echo "test_clients: $group"
  # tests/clients/pytest.ini is the configuration here (warnings are errors, as in the main
  # suite), so tests/conftest.py and its test-only imports stay out of these environments.
  if ! "$venvs/$group/bin/python" -m pytest -c "$root/pytest.ini" --rootdir "$root" \
      "$root/$group" "$@"; then
    failed+=("$group")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "test_clients: failed: ${failed[*]}" >&2
  exit 1
fi
