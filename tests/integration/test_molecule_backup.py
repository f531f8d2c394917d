"""The molecule scenario of the backup role (extensions/molecule/backup) on one test bed host.

The test builds the host (a network namespace with its own sshd, files and hostname), puts the
application's configuration tree in it (the data the scenario backs up), writes the inventory the scenario
reads (``MOLECULE_BACKUP_INVENTORY``) and runs ``molecule test -s backup`` from the collection root: check
mode on the fresh host, converge, idempotence (a second converge changes nothing), verify.

Run it with::

    PYTHONPATH=.build/collections .venv/bin/pytest -p no:cacheprovider tests/integration/test_molecule_backup.py -x
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, ansible_env
from testbed import Testbed

BIN = Path(sys.executable).parent
SCENARIO = REPO / "extensions" / "molecule" / "backup"
# the backup role's own bed is 10.127.0 / sddbr4 / sbk; this one may run beside it
BED = {"subnet": "10.127.1", "bridge": "sddbr4m", "prefix": "sbm"}
KEY = "mol-Backup-Key-9e4a2c"  # the vault variable's value in the scenario (vars/backup.yml)


def test_molecule_scenario(tmp_path: Path) -> None:
    molecule = BIN / "molecule"
    if not molecule.exists():
        raise RuntimeError("molecule is not installed in %s (pip install molecule)" % BIN)
    for tool in ("/usr/bin/zstd", "/usr/sbin/cron", "/usr/bin/tar"):
        if not Path(tool).exists():
            raise RuntimeError("%s is missing (tests/system-packages.txt)" % tool)
    with Testbed(["mol"], **BED) as bed:
        # the machine's shell start-up files (pyenv) would run at every SSH command of every task
        bed.run("mol", ["sh", "-c", ": > /root/.bashrc"])
        bed.run(
            "mol",
            [
                "sh",
                "-c",
                "mkdir -p /srv/order-intake/config && echo 'limit=10' > /srv/order-intake/config/app.ini"
                " && echo 'not backed up' > /srv/order-intake/config/draft.tmp"
                " && ln -s app.ini /srv/order-intake/config/current.ini",
            ],
        )
        inventory = bed.inventory(str(tmp_path / "hosts.ini"), groups={"backup": ["mol"]})
        env = ansible_env(tmp_path)
        env.update(
            {
                "MOLECULE_BACKUP_INVENTORY": inventory,
                "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
                "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "MOLECULE_NO_LOG": "false",
                "NO_COLOR": "1",
            }
        )
        started = time.monotonic()
        proc = subprocess.run(
            [str(molecule), "test", "-s", "backup"],
            cwd=str(REPO),
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        seconds = time.monotonic() - started
        output = proc.stdout + proc.stderr
        (tmp_path / "molecule.out").write_text(output)
        # on a busy machine the wall time is mostly waiting for a core: the CPU is what the scenario costs
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        host_cpu = 0.0
        pids = subprocess.run(
            ["ip", "netns", "pids", bed.hosts["mol"].netns], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in pids:
            with contextlib.suppress(OSError, ValueError), open("/proc/%s/stat" % pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
                host_cpu += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        print(
            "\nmolecule test -s backup: %.1f s wall; CPU %.0f s (molecule and Ansible %.0f s, host sessions %.0f s)"
            % (
                seconds,
                children.ru_utime + children.ru_stime + host_cpu,
                children.ru_utime + children.ru_stime,
                host_cpu,
            )
        )
        assert proc.returncode == 0, output[-8000:]
        # every step of the sequence ran, and the second converge changed nothing
        for step in ("check", "converge", "idempotence", "verify"):
            assert re.search(r"\b%s\b" % step, output), (step, output[-3000:])
        assert re.search(r"mol\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", output), output[-3000:]
        # the vault key never shows in molecule's or Ansible's output; on the host it is only in the secrets file
        assert KEY not in output
        found = bed.ssh("mol", "grep -rlF %s /etc /srv /var /usr/local /tmp 2>/dev/null || true" % KEY).stdout.split()
        assert found == ["/etc/sdd-devops-flow/backup/order-intake-api.secrets.json"], found
        # the scheduled command made no backup of its own: converge made the only one, in both folders
        listing = bed.ssh("mol", "ls /srv/backups/order-intake-api /srv/backups-copy/order-intake-api").stdout
        assert len(re.findall(r"^\d{8}T\d{6}Z$", listing, re.M)) == 2, listing
    assert SCENARIO.is_dir()
