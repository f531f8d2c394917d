"""The molecule scenario of the security role (extensions/molecule/security) on one test bed host.

The test builds the host (a network namespace with its own sshd, files and hostname), writes the inventory the
scenario reads (``MOLECULE_SECURITY_INVENTORY``) and runs ``molecule test -s security`` from the collection
root: check mode on the fresh host, converge, idempotence (a second converge changes nothing), verify.

Run it with::

    PYTHONPATH=.build/collections .venv/bin/pytest -p no:cacheprovider tests/integration/test_molecule_security.py -x
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, ansible_env
from testbed import Testbed

BIN = Path(sys.executable).parent


def test_molecule_scenario(tmp_path: Path) -> None:
    molecule = BIN / "molecule"
    if not molecule.exists():
        raise RuntimeError("molecule is not installed in %s (pip install molecule)" % BIN)
    with Testbed(["mol1"], subnet="10.128.0", bridge="sddbr5", prefix="ssc") as bed:
        inventory = bed.inventory(str(tmp_path / "inventory.ini"), groups={"app": ["mol1"]})
        env = ansible_env(tmp_path)
        env.update(
            {
                "MOLECULE_SECURITY_INVENTORY": inventory,
                "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
                "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "ANSIBLE_FORCE_COLOR": "0",
                "NO_COLOR": "1",
            }
        )
        started = time.monotonic()
        result = subprocess.run(
            [str(molecule), "test", "-s", "security"],
            cwd=str(REPO),
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        print("molecule test -s security: %.1f s" % (time.monotonic() - started))
        output = result.stdout + result.stderr
        (tmp_path / "molecule.out").write_text(output)
        assert result.returncode == 0, output[-8000:]
        # every step of the sequence ran, and the second converge changed nothing
        for step in ("check", "converge", "idempotence", "verify"):
            assert step in output, step
        recaps = re.findall(r"^mol1\s+:\s+ok=\d+\s+changed=(\d+)", output, re.MULTILINE)
        assert len(recaps) == 4 and recaps[2] == "0", recaps  # check, converge, idempotence, verify
        # the host is still reachable with the test key after sshd was hardened and the firewall loaded
        assert bed.ssh("mol1", "true").returncode == 0
