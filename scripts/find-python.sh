#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter (ansible-core 2.21 needs 3.12+).
#
# Order: python3.13, python3.12, python3 on PATH (each must actually run: a pyenv
# shim may exist and refuse to run), then pyenv's own builds
# $(pyenv root)/versions/3.1[2-9]*/bin/python3, newest first ($PYENV_ROOT or
# $HOME/.pyenv when pyenv is not on PATH).
# Set PYTHON=/path/to/python to force one (it must still be >= 3.12).
set -euo pipefail

MIN_MAJOR=3
MIN_MINOR=12

ok() {
    # True when "$1" runs and is Python >= 3.12.
    "$1" -c "import sys; sys.exit(0 if sys.version_info >= (${MIN_MAJOR}, ${MIN_MINOR}) else 1)" \
        >/dev/null 2>&1
}

resolve() {
    # Print the real path of an interpreter (sys.executable), so a shim is never returned.
    "$1" -c 'import sys; print(sys.executable)'
}

if [[ -n "${PYTHON:-}" ]]; then
    if ok "$PYTHON"; then
        resolve "$PYTHON"
        exit 0
    fi
    echo "find-python: PYTHON=$PYTHON is not a working Python >= ${MIN_MAJOR}.${MIN_MINOR}" >&2
    exit 1
fi

for name in python3.13 python3.12 python3; do
    if command -v "$name" >/dev/null 2>&1 && ok "$name"; then
        resolve "$name"
        exit 0
    fi
done

roots=()
if command -v pyenv >/dev/null 2>&1; then
    roots+=("$(pyenv root 2>/dev/null || true)")
fi
roots+=("${PYENV_ROOT:-}" "${HOME:-/root}/.pyenv")

for root in "${roots[@]}"; do
    [[ -n "$root" && -d "$root/versions" ]] || continue
    # Newest first: sort the version folder names by version.
    while IFS= read -r dir; do
        candidate="$dir/bin/python3"
        if [[ -x "$candidate" ]] && ok "$candidate"; then
            resolve "$candidate"
            exit 0
        fi
    done < <(find "$root/versions" -mindepth 1 -maxdepth 1 -name '3.1[2-9]*' 2>/dev/null | sort -rV)
done

cat >&2 <<MSG
find-python: no Python >= ${MIN_MAJOR}.${MIN_MINOR} found.
  Tried python3.13, python3.12 and python3 on PATH, and pyenv builds under
  ${roots[*]:-(no pyenv root)}/versions/3.1[2-9]*.
  Install one (for example 'pyenv install 3.12' or Debian's python3.12 where
  available) or set PYTHON=/path/to/python3.12.
MSG
exit 1
