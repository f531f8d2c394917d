"""The deployment scripts of the local target, run for real on this machine: HAProxy with
its admin socket in front of the demo app (examples/app), blue and green processes, a
loop of HTTP requests through HAProxy during the switches.

The scripts are rendered for REQ-14 with its compute mapped to hosts (the local target)
and a root, ports and socket under the test's temporary folder; the holds and health
timings are shortened. The same templates rendered by Ansible's template module give the
same bytes (checked here with a real ansible-playbook run).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import Compute
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import scripts as S

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "examples" / "app"
HAPROXY = "/usr/sbin/haproxy"
SERVICE = "order-intake-api"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str = "/", timeout: float = 5.0) -> tuple:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def version_behind(port: int) -> str:
    status, body = get(port)
    assert status == 200, body
    return str(json.loads(body)["version"])


class Traffic:
    """Requests through HAProxy in a thread, until stopped (bounded in count and time)."""

    def __init__(self, port: int, limit: int = 5000, seconds: float = 90.0) -> None:
        self.port = port
        self.limit = limit
        self.seconds = seconds
        self.statuses: List[int] = []
        self.errors: List[str] = []
        self.versions: Dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while not self._stop.is_set() and len(self.statuses) + len(self.errors) < self.limit:
            if time.monotonic() > deadline:
                break
            try:
                status, body = get(self.port, timeout=5)
                self.statuses.append(status)
                if status == 200:
                    version = str(json.loads(body)["version"])
                    self.versions[version] = self.versions.get(version, 0) + 1
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(repr(exc))
            time.sleep(0.005)

    def __enter__(self) -> Traffic:
        self._thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def failed(self) -> int:
        return len(self.errors) + sum(1 for s in self.statuses if s != 200)


class Bed:
    """HAProxy, the rendered scripts and the release tarballs of one test module."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.scripts = base / "scripts"
        self.releases = base / "releases"
        self.socket = base / "haproxy.sock"
        self.frontend = free_port()
        self.blue = free_port()
        self.green = free_port()
        self.haproxy: Optional[subprocess.Popen] = None
        self.haproxy_log: Optional[Any] = None
        model = load_model(req=str(REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"))
        model = replace(model, infrastructure=replace(model.infrastructure, compute=Compute(kind="vm")))
        ctx = S.script_context(model)
        ctx.update(
            root=str(self.root),
            port=self.frontend,
            blue_port=self.blue,
            green_port=self.green,
            command=S.DEMO_COMMAND,
            flags_file=str(self.root / "shared" / "flags.json"),
            stop_seconds=5,
            keep_releases=2,
        )
        ctx["haproxy"] = dict(ctx["haproxy"], socket=str(self.socket), frontend_port=self.frontend)
        ctx["health"] = dict(ctx["health"], interval=1, retries=3, timeout=2, start_seconds=20)
        for env in ctx["environments"].values():
            env["hold_seconds"] = 2
        ctx["environments"]["prod"]["canary_steps"] = [20, 50, 100]
        self.context = ctx

    def write_scripts(self) -> None:
        self.scripts.mkdir(parents=True)
        for name, text in S.render_templates(self.context, S.SCRIPT_NAMES).items():
            path = self.scripts / name
            path.write_text(text, encoding="utf-8")
            path.chmod(0o755)

    def build(self, version: str, *bad: str) -> str:
        out = subprocess.run(
            [str(APP / "build-release.sh"), version, str(self.releases), *bad],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def start_haproxy(self) -> None:
        config = self.base / "haproxy.cfg"
        config.write_text(
            "\n".join(
                [
                    "global",
                    "    stats socket %s mode 600 level admin" % self.socket,
                    "defaults",
                    "    mode http",
                    "    timeout connect 2s",
                    "    timeout client 30s",
                    "    timeout server 30s",
                    "    retries 3",
                    "    option redispatch",
                    "    retry-on conn-failure empty-response 503",
                    "frontend %s_in" % SERVICE,
                    "    bind 127.0.0.1:%d" % self.frontend,
                    "    default_backend %s" % SERVICE,
                    "backend %s" % SERVICE,
                    "    balance roundrobin",
                    "    option httpchk GET /health/ready",
                    "    default-server inter 500ms fall 2 rise 1",
                    "    server %s_blue 127.0.0.1:%d weight 0 check" % (SERVICE, self.blue),
                    "    server %s_green 127.0.0.1:%d weight 0 check" % (SERVICE, self.green),
                    "",
                ]
            )
        )
        subprocess.run([HAPROXY, "-c", "-f", str(config)], check=True, capture_output=True)
        self.haproxy_log = open(self.base / "haproxy.log", "w")  # noqa: SIM115 - closed in stop()
        self.haproxy = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(config)], stdout=self.haproxy_log, stderr=self.haproxy_log
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            assert time.monotonic() < deadline, "HAProxy did not open its admin socket"
            time.sleep(0.05)

    def run(self, name: str, *args: str, check: bool = True, expect: int = 0) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.scripts / name), *args],
            capture_output=True,
            text=True,
            cwd=str(self.base),
            timeout=120,
            check=False,
        )
        if check:
            assert result.returncode == expect, "%s %s -> %d\n%s\n%s" % (
                name,
                " ".join(args),
                result.returncode,
                result.stdout,
                result.stderr,
            )
        return result

    def weights(self) -> Dict[str, int]:
        out = {}
        for colour in ("blue", "green"):
            answer = subprocess.run(
                ["socat", "-t", "2", "-", "UNIX-CONNECT:%s" % self.socket],
                input="get weight %s/%s_%s\n" % (SERVICE, SERVICE, colour),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            out[colour] = int(answer.split()[0])
        return out

    def state(self, name: str) -> str:
        path = self.root / "state" / name
        return path.read_text().strip() if path.exists() else ""

    def pids(self) -> Dict[str, str]:
        return {p.stem: p.read_text().strip() for p in sorted((self.root / "run").glob("*.pid"))}

    def stop(self) -> None:
        for pid_file in (self.root / "run").glob("*.pid") if (self.root / "run").is_dir() else []:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().strip()), 15)
        if self.haproxy is not None:
            self.haproxy.terminate()
            self.haproxy.wait(timeout=10)
        if self.haproxy_log is not None:
            self.haproxy_log.close()


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    for tool in (HAPROXY, "socat", "curl", "setsid", "flock", "tar"):
        assert shutil.which(tool), "%s is required by the local-target tests (tests/system-packages.txt)" % tool
    testbed = Bed(tmp_path_factory.mktemp("local-target"))
    testbed.write_scripts()
    testbed.start_haproxy()
    try:
        yield testbed
    finally:
        testbed.stop()


# The tests below run in order on one bed: each starts from what the one before left.


def test_setup_creates_the_folders_and_is_idempotent(bed: Bed) -> None:
    first = bed.run("setup.sh", "--env", "dev")
    assert "tools present" in first.stdout
    for folder in ("releases", "logs", "run", "state"):
        assert (bed.root / folder).is_dir()
    flags = json.loads((bed.root / "shared" / "flags.json").read_text())
    assert flags["STRICT_PRICE_REVALIDATION"] is True and flags["PARTNER_BULK_SUBMIT"] is False
    before = sorted(str(p.relative_to(bed.root)) for p in bed.root.rglob("*") if "logs" not in p.parts)
    bed.run("setup.sh", "--env", "dev")
    after = sorted(str(p.relative_to(bed.root)) for p in bed.root.rglob("*") if "logs" not in p.parts)
    assert before == after
    logs = list((bed.root / "logs").glob("deployment_*.log"))
    assert logs and all(len(p.name) == len("deployment_20250101_120000.log") for p in logs)


def test_first_deployment(bed: Bed) -> None:
    v1 = bed.build("1.0.0")
    result = bed.run("deploy.sh", "--env", "dev", "--image", v1)
    assert "1.0.0 is live on blue" in result.stdout
    assert version_behind(bed.frontend) == "1.0.0"
    assert os.readlink(bed.root / "current") == "releases/1.0.0"
    assert (bed.root / "releases" / "1.0.0" / "app.py").is_file()
    assert bed.weights() == {"blue": 100, "green": 0}


def test_deploying_the_same_release_again_changes_nothing(bed: Bed) -> None:
    v1 = str(bed.releases / "demo-app-1.0.0.tar.gz")
    pids, weights, current = bed.pids(), bed.weights(), bed.state("current")
    result = bed.run("deploy.sh", "--env", "dev", "--image", v1)
    assert "already live: nothing to deploy" in result.stdout
    assert (bed.pids(), bed.weights(), bed.state("current")) == (pids, weights, current)
    again = bed.run("install.sh", "--env", "dev", "--image", v1)
    assert "already installed" in again.stdout


def test_blue_green_switch_without_a_failed_request(bed: Bed) -> None:
    v2 = bed.build("2.0.0")
    with Traffic(bed.frontend) as traffic:
        bed.run("deploy.sh", "--env", "staging", "--image", v2, "--phase", "idle")
        assert bed.weights() == {"blue": 100, "green": 0}
        assert version_behind(bed.green) == "2.0.0"
        bed.run("health-check.sh", "--env", "staging", "--target", "idle")
        switched = bed.run("deploy.sh", "--env", "staging", "--phase", "switch")
        assert "2.0.0 is live on green" in switched.stdout
        time.sleep(1)
    assert traffic.failed == 0, (traffic.errors[:5], traffic.statuses.count(200), len(traffic.statuses))
    assert traffic.versions.get("1.0.0") and traffic.versions.get("2.0.0"), traffic.versions
    assert version_behind(bed.frontend) == "2.0.0"
    assert bed.weights() == {"blue": 0, "green": 100}
    assert version_behind(bed.blue) == "1.0.0", "the old colour keeps running for a rollback"
    repeat = bed.run("deploy.sh", "--env", "staging", "--phase", "switch")
    assert "nothing to switch" in repeat.stdout
    assert bed.weights() == {"blue": 0, "green": 100}


def test_canary_with_a_bad_release_goes_back_to_stable(bed: Bed) -> None:
    v3 = bed.build("3.0.0", "--bad", "errors")
    with Traffic(bed.frontend) as traffic:
        result = bed.run("deploy.sh", "--env", "prod", "--image", v3, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "canary: 20% of the traffic to 3.0.0" in result.stdout
    assert "is above the threshold 0.01" in result.stdout
    assert "canary stopped: all traffic back on 2.0.0" in result.stdout
    assert bed.weights() == {"blue": 0, "green": 100}
    assert bed.state("current") == "2.0.0"
    assert version_behind(bed.frontend) == "2.0.0"
    assert traffic.statuses.count(500) > 0, "the canary received traffic before its gate"
    assert traffic.versions.get("2.0.0")


def test_health_check_of_the_live_release(bed: Bed) -> None:
    result = bed.run("health-check.sh", "--env", "prod")
    assert "the live release of order-intake-api (prod) is healthy" in result.stdout
    gate = bed.run("health-check.sh", "--env", "prod", "--target", "live", "--gate", check=False)
    assert gate.returncode in (0, 2), gate.stdout


def test_rollback_returns_to_the_previous_release(bed: Bed) -> None:
    with Traffic(bed.frontend) as traffic:
        first = bed.run("rollback.sh", "--env", "staging")
        assert "rolled back to 1.0.0" in first.stdout
        assert version_behind(bed.frontend) == "1.0.0"
        second = bed.run("rollback.sh", "--env", "staging")
        assert "rolled back to 2.0.0" in second.stdout
    assert traffic.failed == 0, traffic.errors[:5]
    assert version_behind(bed.frontend) == "2.0.0"
    assert (bed.state("current"), bed.state("previous")) == ("2.0.0", "1.0.0")


def test_rolling_deployment_stops_the_old_process(bed: Bed) -> None:
    v4 = bed.build("4.0.0")
    old_colour = bed.state("live")
    with Traffic(bed.frontend) as traffic:
        bed.run("deploy.sh", "--env", "dev", "--image", v4, "--phase", "rolling")
    assert traffic.failed == 0, traffic.errors[:5]
    assert version_behind(bed.frontend) == "4.0.0"
    assert old_colour not in bed.pids(), "rolling replaces the old process"


def test_cleanup_keeps_the_newest_and_the_live_releases(bed: Bed) -> None:
    v5 = bed.build("5.0.0")
    bed.run("install.sh", "--env", "dev", "--image", v5)
    installed = sorted(p.name for p in (bed.root / "releases").iterdir() if not p.name.startswith("."))
    assert installed == ["1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0"]
    result = bed.run("cleanup.sh", "--env", "dev")
    kept = sorted(p.name for p in (bed.root / "releases").iterdir() if not p.name.startswith("."))
    # keep_releases 2: the newest two (5.0.0, 4.0.0); 4.0.0 is live and 2.0.0 the previous one
    assert kept == ["2.0.0", "4.0.0", "5.0.0"], result.stdout
    assert "removed release 1.0.0" in result.stdout and "removed release 3.0.0" in result.stdout
    assert version_behind(bed.frontend) == "4.0.0"
    bed.run("cleanup.sh", "--env", "dev")
    assert sorted(p.name for p in (bed.root / "releases").iterdir() if not p.name.startswith(".")) == kept


def test_ansible_template_module_writes_the_same_bytes(bed: Bed, tmp_path: Path) -> None:
    """The deploy role renders the same templates with ansible.builtin.template."""
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({"deploy_script": bed.context, "out": str(tmp_path / "out")}))
    (tmp_path / "out").mkdir()
    playbook = tmp_path / "render.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Render the deployment scripts\n"
        "      ansible.builtin.template:\n"
        "        src: %s/{{ item }}.j2\n"
        "        dest: '{{ out }}/{{ item }}'\n"
        "        mode: '0755'\n"
        "      loop: %s\n" % (S.template_dir(), json.dumps(list(S.SCRIPT_NAMES)))
    )
    env = dict(
        os.environ,
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote-tmp"),
        ANSIBLE_NOCOLOR="1",
    )
    playbook_bin = Path(sys.executable).parent / "ansible-playbook"
    result = subprocess.run(
        [
            str(playbook_bin),
            "-i",
            "localhost,",
            str(playbook),
            "-e",
            "@%s" % variables,
            "-e",
            "ansible_python_interpreter=%s" % sys.executable,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in S.SCRIPT_NAMES:
        assert (tmp_path / "out" / name).read_bytes() == (bed.scripts / name).read_bytes(), name
