#!/usr/bin/env bash
# Build a release of the demo app: a tarball holding app.py and release.json.
#
#   build-release.sh VERSION OUTPUT_DIR [--bad readiness|errors] [--error-ratio R] [--startup-seconds N]
#
# A "bad" release fails its readiness check (readiness) or answers 500 on / (errors; with
# --error-ratio 0.5 every second request, so a single smoke test passes and only real
# traffic shows the problem): deployments must notice it and roll back.
set -euo pipefail

usage() {
  echo "usage: $0 VERSION OUTPUT_DIR [--bad readiness|errors] [--error-ratio R] [--startup-seconds N]" >&2
  exit 2
}

[ $# -ge 2 ] || usage
version=$1
output=$2
shift 2
fail_mode=none
startup=0.2
error_ratio=1.0
while [ $# -gt 0 ]; do
  case "$1" in
    --bad)
      [ $# -ge 2 ] || usage
      fail_mode=$2
      shift 2
      ;;
    --error-ratio)
      [ $# -ge 2 ] || usage
      error_ratio=$2
      shift 2
      ;;
    --startup-seconds)
      [ $# -ge 2 ] || usage
      startup=$2
      shift 2
      ;;
    *) usage ;;
  esac
done
case "$fail_mode" in none | readiness | errors) ;; *) usage ;; esac
[[ "$version" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "version must match [A-Za-z0-9._-]+" >&2; exit 2; }
[[ "$startup" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "startup seconds must be a number" >&2; exit 2; }
[[ "$error_ratio" =~ ^(0([.][0-9]+)?|1([.]0+)?)$ ]] || { echo "the error ratio is a number from 0 to 1" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/demo-app-$version" "$output"
cp "$here/app.py" "$stage/demo-app-$version/app.py"
printf '{"version": "%s", "fail_mode": "%s", "error_ratio": %s, "startup_seconds": %s}\n' \
  "$version" "$fail_mode" "$error_ratio" "$startup" > "$stage/demo-app-$version/release.json"
tar -C "$stage" --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00' --sort=name \
  -czf "$output/demo-app-$version.tar.gz" "demo-app-$version"
echo "$output/demo-app-$version.tar.gz"
