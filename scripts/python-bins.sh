#!/usr/bin/env bash
# Print a PATH prefix (folders joined by ':') with one bin folder per Python
# minor version that ansible-test supports (3.9 ... 3.14), taken from pyenv's
# builds ($(pyenv root), $PYENV_ROOT or ~/.pyenv), newest patch release first.
# With it on PATH, ansible-test finds python3.9, python3.10, ... (pyenv's shims
# for these refuse to run unless the version is selected, so the shims do not do).
# Prints an empty line when no pyenv builds exist: ansible-test then runs the
# version-specific sanity tests only on the Pythons it finds on PATH.
set -euo pipefail

roots=()
if command -v pyenv >/dev/null 2>&1; then
    roots+=("$(pyenv root 2>/dev/null || true)")
fi
roots+=("${PYENV_ROOT:-}" "${HOME:-/root}/.pyenv")

declare -A seen=()
dirs=()
for root in "${roots[@]}"; do
    [[ -n "$root" && -d "$root/versions" ]] || continue
    while IFS= read -r dir; do
        name="${dir##*/}"
        minor="$(cut -d. -f1,2 <<<"$name")"
        case "$minor" in
            3.9 | 3.1[0-4]) ;;
            *) continue ;;
        esac
        [[ -z "${seen[$minor]:-}" ]] || continue
        if [[ -x "$dir/bin/python$minor" ]] && "$dir/bin/python$minor" -c '' >/dev/null 2>&1; then
            seen[$minor]=1
            dirs+=("$dir/bin")
        fi
    done < <(find "$root/versions" -mindepth 1 -maxdepth 1 -name '3.*' 2>/dev/null | sort -rV)
done

(IFS=:; echo "${dirs[*]:-}")
