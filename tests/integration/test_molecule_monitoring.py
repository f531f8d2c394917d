"""The molecule scenario of the monitoring role (extensions/molecule/monitoring) on a test bed host.

The host (``mon1``, a network namespace with its own sshd and files) is in the groups
``monitoring`` and ``app``: the role runs Prometheus, Alertmanager and a node exporter on
it, and scrapes the demo app's two colours, which this test starts on the host's address.
molecule runs the scenario's sequence: check (on the fresh host), converge, idempotence,
verify; it finds the host through MOLECULE_MONITORING_INVENTORY.

    PYTHONPATH=.build/collections .venv/bin/pytest -p no:cacheprovider tests/integration/test_molecule_monitoring.py -x
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from conftest import REPO, ansible_env
from test_monitoring_role import (
    BIN,
    NODE_EXPORTER,
    PORTS,
    PROGRAMS,
    children_cpu,
    close_connections,
    hosts_cpu,
    start_app,
)
from testbed import Testbed

# A subnet, bridge and prefix of their own: pytest-xdist may run this file beside test_monitoring_role.py.
BED = {"subnet": "10.126.1", "bridge": "sddbr3m", "prefix": "smm"}


def test_molecule_scenario(tmp_path: Path) -> None:
    molecule = BIN / "molecule"
    if not molecule.exists():
        raise RuntimeError("molecule is not installed in %s (pip install molecule)" % BIN)
    missing = [p for p in (*PROGRAMS, NODE_EXPORTER, "/usr/bin/supervisord") if not os.access(p, os.X_OK)]
    if missing:
        raise RuntimeError("missing %s (tests/system-packages.txt)" % ", ".join(missing))
    with Testbed(["mon1"], **BED) as bed:
        # the machine's shell start-up files (pyenv) would run at every SSH command of every task
        bed.run("mon1", ["sh", "-c", ": > /root/.bashrc"])
        for colour in PORTS:
            start_app(bed, "mon1", colour)
        inventory = bed.inventory(str(tmp_path / "hosts.ini"), groups={"monitoring": ["mon1"], "app": ["mon1"]})
        env = ansible_env(tmp_path)
        env.update(
            {
                "MOLECULE_MONITORING_INVENTORY": inventory,
                "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
                "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "MOLECULE_NO_LOG": "false",
                "NO_COLOR": "1",
            }
        )
        start, cpu, remote = time.monotonic(), children_cpu(), hosts_cpu(bed)
        proc = subprocess.run(
            [str(molecule), "test", "-s", "monitoring"],
            cwd=str(REPO),
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        seconds = time.monotonic() - start
        close_connections(tmp_path / "cp")
        output = proc.stdout + proc.stderr
        (tmp_path / "molecule.log").write_text(output)
        assert proc.returncode == 0, output[-8000:]
        # on a busy machine the wall time is mostly waiting for a core: the CPU is what the scenario costs
        print(
            "molecule test -s monitoring: %.1fs (molecule and Ansible CPU %.1fs, host CPU %.1fs; log: %s)"
            % (seconds, children_cpu() - cpu, hosts_cpu(bed) - remote, tmp_path / "molecule.log")
        )
        # every step of the sequence ran: four playbook runs (check, converge, idempotence, verify)
        recaps = re.findall(r"^mon1\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", output, re.M)
        assert len(recaps) == 4, output[-3000:]
        assert int(recaps[0]) > 0 and int(recaps[1]) > 0 and recaps[2] == "0", recaps
        # the receiver credential reached its file and never shows in molecule's or Ansible's output
        assert "molecule-Secret" not in output
        secret = bed.ssh("mon1", "cat /etc/alertmanager/secrets/slack_api_url").stdout
        assert secret.endswith("molecule-Secret-8f3b"), secret
