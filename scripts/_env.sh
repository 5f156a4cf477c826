# Sourced by scripts/*: finds Python >= 3.12 and makes the project's virtualenv in .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  local candidates=("${PYTHON:-}" python3.13 python3.12 python3)
  if command -v pyenv >/dev/null 2>&1; then
    local root; root="$(pyenv root)"
    for v in "$root"/versions/3.1[2-9]*/bin/python "$root"/versions/3.[2-9][0-9]*/bin/python; do
      [ -x "$v" ] && candidates+=("$v")
    done
  fi
  for c in "${candidates[@]}"; do
    [ -n "$c" ] || continue
    local p; p="$(command -v "$c" 2>/dev/null || true)"
    [ -n "$p" ] || continue
    # pyenv shims may answer for a version that is not the active one: ask the interpreter itself
    if PYENV_VERSION="$(basename "$(dirname "$(dirname "$p")")")" "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
       || "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  echo "error: Python >= 3.12 not found (set PYTHON=/path/to/python3.12)" >&2
  return 1
}

ensure_venv() {
  local extras="${1:-}"
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    rm -rf .venv
    "$(find_python)" -m venv .venv
  fi
  local stamp=".venv/.installed${extras:+-$extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
}
