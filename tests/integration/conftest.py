"""Integration tests: real hosts (network namespaces with sshd) and real servers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / ".build" / "collections"))

from testbed import Testbed  # noqa: E402


def ansible_env(tmp: Path) -> dict:
    """Environment for ansible-playbook runs against the bed (state under ``tmp``)."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp / "cp"),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "PATH": "%s:%s" % (Path(sys.executable).parent, env.get("PATH", "")),
        }
    )
    return env


@pytest.fixture(scope="module")
def bed():
    """Four hosts: a load balancer and three application hosts."""
    with Testbed(["lb", "app1", "app2", "app3"]) as testbed:
        yield testbed
