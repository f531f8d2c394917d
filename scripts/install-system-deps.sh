#!/usr/bin/env bash
# Install the Debian packages listed in tests/system-packages.txt (or the file
# given as $1) that are not installed yet.
#
# - checks each package with `dpkg -s` first: when all are there it does nothing
#   (no apt-get update, no network), so a second run is a no-op;
# - runs `apt-get update` only when something must be installed;
# - as root directly, otherwise through sudo when it works without a password
#   prompt; otherwise prints the command to run and fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list="${1:-$here/../tests/system-packages.txt}"

if [[ ! -f "$list" ]]; then
    echo "install-system-deps: package list $list not found" >&2
    exit 1
fi

if ! command -v dpkg >/dev/null 2>&1; then
    echo "install-system-deps: dpkg not found: this script supports Debian/Ubuntu only." >&2
    echo "  Install by hand: $(sed -e 's/#.*//' "$list" | xargs)" >&2
    exit 1
fi

missing=()
while read -r pkg; do
    [[ -n "$pkg" ]] || continue
    # 'install ok installed' is the only state that counts (not 'deinstall' or 'config-files').
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e 's/^[[:space:]]*//' "$list")

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-system-deps: all packages from ${list##*/} are installed"
    exit 0
fi

echo "install-system-deps: installing ${missing[*]}"

if [[ "$(id -u)" -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "install-system-deps: not root and no password-less sudo." >&2
    echo "  Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
