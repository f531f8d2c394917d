"""moto's server as a stand-in for the AWS APIs, started on a free loopback port.

One helper for every integration test that talks to AWS (the generated Terraform, the
provision role, cloud_drift): ``with moto_server(folder) as url`` starts ``moto_server``,
waits until it answers, yields ``http://127.0.0.1:<port>`` and stops it afterwards, also
when the block fails. The server's output goes to ``folder/moto-<port>.log`` and is shown
when it does not start.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

#: Credentials and region that only moto accepts; no real account is ever reached.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def moto_server_command() -> str:
    """The ``moto_server`` beside this Python (the venv's), else the one on PATH; fails loudly."""
    beside = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("moto_server")
    if not found:
        pytest.fail("moto_server is not installed: pip install 'moto[server]' (requirements-dev.txt)")
    return found


@contextmanager
def moto_server(folder: Path, extra_env: Optional[Dict[str, str]] = None, timeout: float = 60) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto server started for the block and stopped after it."""
    port = free_port()
    log = Path(folder) / ("moto-%d.log" % port)
    env = dict(os.environ)
    env.update(AWS_ENV)
    env.update(extra_env or {})
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [moto_server_command(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/moto-api/", timeout=2):  # noqa: S310 - loopback URL
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto_server did not start: %s" % log.read_text(errors="replace")[-2000:])
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
