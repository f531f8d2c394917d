#!/usr/bin/env bash
# Make `ansible-test sanity` work offline (no access to ci-files.testing.ansible.com).
#
# ansible-test creates one virtual environment per sanity test (and per Python
# version for `import`), created --without-pip, and bootstraps pip into each by
# running a cached "get-pip" script, which it otherwise downloads:
#   ansible_test/_util/target/setup/requirements.py, bootstrap():
#     cache_path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py'
#                                     % pip_version.replace('.', '_'))
#   pip_version comes from ansible_test/_internal/python_requirements.py,
#   get_venv_packages() ('25.2' in ansible-core 2.21.5 -> get_pip_25_2.py).
# Note the path is under ~ (HOME), not ANSIBLE_HOME: the Makefile runs
# ansible-test with HOME=.build/home whose .ansible is a link to $ANSIBLE_HOME,
# so the file lands in $ANSIBLE_HOME/test/cache/.
#
# This script downloads that pip wheel from the configured index (PyPI) into the
# cache folder and writes a stand-in for the get-pip file that unpacks the wheel
# into the new venv (under a second; pip wheels are pure Python and need no build
# step), falling back to ensurepip + `pip install pip==<version>` when the wheel
# is missing. Then it runs `ansible-test sanity --prime-venvs` so every sanity
# venv exists before the real run (about 1 s when they all exist).
#
# Usage (the Makefile sets the environment):
#   PYTHON=.venv/bin/python ANSIBLE_TEST=.venv/bin/ansible-test \
#     CACHE_DIR=$ANSIBLE_HOME/test/cache scripts/prime-ansible-test.sh [extra ansible-test sanity options]
# Run it from the collection root inside an ansible_collections/NS/NAME tree.
set -euo pipefail

ansible_test="${ANSIBLE_TEST:-ansible-test}"
cache_dir="${CACHE_DIR:-$HOME/.ansible/test/cache}"

# The Python whose ansible_test package runs (the venv's python).
ansible_test_python="${PYTHON:-python3}"

# Every pip version ansible-test may bootstrap (default and per-Python overrides).
mapfile -t pip_versions < <("$ansible_test_python" - <<'PY'
import re
import sys
from pathlib import Path

import ansible_test

source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
text = source.read_text()
match = re.search(r"def get_venv_packages\(.*?\n(?=def )", text, re.S)
versions = sorted(set(re.findall(r"pip=['\"]([0-9][0-9.]*)['\"]", match.group(0) if match else "")))
if not versions:
    sys.exit(f"prime-ansible-test: cannot find the pip version in {source}")
print("\n".join(versions))
PY
)

if [[ ${#pip_versions[@]} -eq 0 ]]; then
    echo "prime-ansible-test: cannot tell which pip version ansible-test bootstraps" >&2
    exit 1
fi

mkdir -p "$cache_dir"

for version in "${pip_versions[@]}"; do
    wheel="$cache_dir/pip-${version}-py3-none-any.whl"
    if [[ ! -f "$wheel" ]]; then
        "$ansible_test_python" -m pip download --quiet --no-deps --only-binary=:all: \
            --dest "$cache_dir" "pip==${version}" \
            || echo "prime-ansible-test: could not download pip ${version}; sanity venvs will use ensurepip" >&2
    fi

    target="$cache_dir/get_pip_${version//./_}.py"
    tmp="$target.tmp.$$"
    cat >"$tmp" <<PY
"""Offline stand-in for ansible-test's get-pip-${version}.py (written by scripts/prime-ansible-test.sh).

ansible-test runs this file as __main__ in a new virtual environment created
--without-pip, with pip install options such as
    --disable-pip-version-check pip==${version} --no-setuptools --no-wheel
When only pip==${version} is asked for and its wheel (downloaded from PyPI by the
prime script) lies beside this file, the wheel is unpacked into the venv's
site-packages: a pip wheel is pure Python, so that is a complete install. Otherwise
pip comes from ensurepip (bundled with CPython) and pip then installs the packages
asked for from the configured index.
"""

import os
import subprocess
import sys
import sysconfig
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
packages = [arg for arg in args if not arg.startswith("-")]
wheel = os.path.join(HERE, "pip-${version}-py3-none-any.whl")

if packages == ["pip==${version}"] and os.path.isfile(wheel):
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(sysconfig.get_paths()["purelib"])
else:
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"],
                          stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])
PY
    if [[ -f "$target" ]] && cmp -s "$tmp" "$target"; then
        rm -f "$tmp"
    else
        mv "$tmp" "$target"
        echo "prime-ansible-test: wrote $target"
    fi
done

# Create (or check, which is quick) every sanity virtual environment.
"$ansible_test" sanity --prime-venvs --color no "$@"
