"""The test bed itself: hosts with their own names and files, reached by Ansible over SSH."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ansible_env


def test_hosts_are_separate_machines(bed):
    bed.ssh("app1", "echo app1-only > /etc/sdd-marker")
    assert bed.ssh("app1", "cat /etc/sdd-marker").stdout.strip() == "app1-only"
    assert bed.ssh("app2", "test -e /etc/sdd-marker", check=False).returncode != 0
    assert bed.ssh("app2", "hostname").stdout.strip() == "app2"
    assert bed.run("lb", ["hostname"]).stdout.strip() == "lb"
    # hosts reach each other by name over the bridge
    assert bed.ssh("app1", "getent hosts lb").stdout.split()[0] == bed.address("lb")


def test_ansible_reaches_every_host(bed, tmp_path):
    inventory = bed.inventory(str(tmp_path / "hosts.ini"), groups={"app": ["app1", "app2", "app3"]})
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "all", "-i", inventory, "-m", "ansible.builtin.ping"],
        capture_output=True,
        text=True,
        env=ansible_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == 4
