"""The security role on real hosts over SSH, with Secrets Manager on moto and a secret in ansible-vault.

Three test bed hosts (network namespaces with their own sshd, files and hostname): ``lb1`` (the load balancer,
also the Prometheus host of the ``monitoring`` group) and the application host ``app1``, which the role hardens,
and ``app2``, another host that app1's firewall must keep out. The
documents are REQ-14 (9.5.6: secrets in AWS Secrets Manager rotated every 30 days, 8080 only from the load
balancer, scanning threshold "0 critical, 0 high"). moto's server on the loopback address holds the database
secret; an ansible-vault file holds an API token. The tests run in order, each from what the previous left:

check mode on a fresh host changes nothing -> the role (ansible-playbook -vvv) -> sshd -T shows the hardened
settings over a drop-in file that weakens them, sshd was reloaded and still takes the test key -> the firewall
lets the load balancer reach the application port and Prometheus the node exporter, and blocks another host;
SSH is its first rule -> the secrets are in their files and nowhere else (not in the -vvv output, not in any
file or log of the hosts or the controller) -> the compliance reports -> a second run changes nothing -> a
firewall that would lock the controller out is rolled back by the watchdog -> a scan over the threshold fails
the play.

Run it with::

    PYTHONPATH=.build/collections .venv/bin/pytest -p no:cacheprovider tests/integration/test_security_role.py -x
"""

from __future__ import annotations

import json
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from conftest import REPO, ansible_env
from testbed import Testbed

REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
BIN = Path(sys.executable).parent
SUBNET, BRIDGE, PREFIX = "10.128.0", "sddbr5", "ssc"
CONTROLLER = "%s.1" % SUBNET
LB = "lb1"
HOSTS = [LB, "app1", "app2"]
#: the hosts the role runs on; app2 is the other host that the firewall of app1 must keep out
ROLE_HOSTS = [LB, "app1"]
GROUPS = {"lb": [LB], "app": ["app1"], "monitoring": [LB]}
SSHD_CONFIG = "/etc/sdd-testbed/sshd_config"
SECRETS_DIR = "/opt/order-intake-api/shared/secrets"
DB_PASSWORD = "db-Pass-4f1c9e7a2b"
API_TOKEN = "api-Token-8d3b6a0c5e"
VAULT_PASSWORD = "vault-Pass-71e2c9"
SECRET_VALUES = (DB_PASSWORD, API_TOKEN)
DROPIN = "PasswordAuthentication yes\nX11Forwarding yes\nMaxAuthTries 6\n"

#: What the role must enforce on sshd (as sshd -T prints it).
HARDENED = {
    "passwordauthentication": "no",
    "kbdinteractiveauthentication": "no",
    "permitrootlogin": "without-password",
    "x11forwarding": "no",
    "maxauthtries": "3",
    "allowtcpforwarding": "no",
    "logingracetime": "30",
    "banner": "/etc/issue.net",
}


# --------------------------------------------------------------------------- helpers


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


class Moto:
    """moto's server on the loopback address (the secrets are read on the controller)."""

    def __init__(self, log: Path) -> None:
        server = BIN / "moto_server"
        if not server.exists():
            raise RuntimeError("moto_server is not installed in %s (pip install 'moto[server]')" % BIN)
        self.port = free_port("127.0.0.1")
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(log, "w")  # noqa: SIM115 - open while the server runs
        self.proc = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()  # noqa: S310
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto_server did not start on %s" % self.url)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


LISTENER = """
import socket, sys, threading
def serve(port):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    sock.listen(16)
    while True:
        conn, _peer = sock.accept()
        conn.sendall(b"hello\\n")
        conn.close()
for port in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(port),), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

PROBE = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5) as sock:
        print("open" if sock.recv(16) else "closed")
except socket.timeout:
    print("blocked")
except OSError as exc:
    print("refused" if "refused" in str(exc).lower() else "error %s" % exc)
"""


class Listener:
    """TCP listeners inside a host's network namespace (they answer "hello")."""

    def __init__(self, bed: Testbed, host: str, ports: List[int]) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", bed.hosts[host].netns, sys.executable, "-c", LISTENER, *map(str, ports)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError("the listener in %s did not start: %s" % (host, line))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def probe(bed: Testbed, source: str, target: str, port: int) -> str:
    """open, blocked (dropped), refused: a real TCP connection from one host to another."""
    return bed.run(source, ["python3", "-c", PROBE, bed.address(target), str(port)]).stdout.strip()


def new_ssh(bed: Testbed, host: str, *options: str) -> subprocess.CompletedProcess:
    """A new SSH connection (no shared control socket), with the client's INFO messages (the banner)."""
    return subprocess.run(
        [
            "ssh",
            "-i",
            bed.key,
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ControlPath=none",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=INFO",
            *options,
            "root@%s" % bed.address(host),
            "echo connected",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def recap(output: str) -> Dict[str, Dict[str, int]]:
    found = {}
    for line in output.splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match and "ok=" in line and "changed=" in line:
            found[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return found


def host_files(bed: Testbed) -> Dict[str, bytes]:
    """Every file the hosts wrote (the upper layers of their overlays), by host and path."""
    files = {}
    for name, host in bed.hosts.items():
        upper = Path(host.root) / "upper"
        for path in upper.rglob("*"):
            relative = "/" + str(path.relative_to(upper))
            # Ansible's own folder, and pyenv's shims that root's shell start-up (.bashrc) refreshes on this machine
            if path.is_file() and not path.is_symlink() and not relative.startswith(("/root/.ansible", "/root/.pyenv")):
                files["%s:%s" % (name, relative)] = path.read_bytes()
    return files


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Iterator[Dict[str, object]]:
    tmp = tmp_path_factory.mktemp("security")
    moto = Moto(tmp / "moto.log")
    try:
        with Testbed(HOSTS, subnet=SUBNET, bridge=BRIDGE, prefix=PREFIX) as bed:
            yield _prepare(tmp, moto, bed)
    finally:
        moto.stop()


def _prepare(tmp: Path, moto: Moto, bed: Testbed) -> Dict[str, object]:
    import boto3

    env = ansible_env(tmp)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=moto.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_secret(
        Name="order-intake/prod/database", SecretString=json.dumps({"username": "orders", "password": DB_PASSWORD})
    )
    # the API token in an ansible-vault file
    (tmp / "vault-password").write_text(VAULT_PASSWORD + "\n")
    vault_file = tmp / "vault.yml"
    vault_file.write_text("vault_api_token: %s\n" % API_TOKEN)
    subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(tmp / "vault-password"), str(vault_file)],
        check=True,
        capture_output=True,
        env=env,
    )
    assert API_TOKEN.encode() not in vault_file.read_bytes()
    # a generated script that passes the 9.5.6 threshold (high); the Dockerfile that fails it is scanned in
    # test_a_scan_over_the_threshold_fails_the_play (checkov and hadolint there)
    artifacts = tmp / "generated"
    (artifacts / "scripts").mkdir(parents=True)
    (artifacts / "scripts" / "health-check.sh").write_text(
        '#!/usr/bin/env bash\nset -euo pipefail\ncurl -fsS "http://127.0.0.1:${PORT:-8080}/health/live"\n'
    )
    inventory = bed.inventory(str(tmp / "inventory.ini"), groups=GROUPS)
    variables = {
        "security_req": str(REQ),
        "security_sshd_config": SSHD_CONFIG,
        # the hosts share the machine's kernel: only the network parameters (one set per namespace) are set
        "security_sysctl_kernel": {},
        "security_aws_endpoint_url": moto.url,
        "security_secrets": [
            {
                "name": "database",
                "backend": "aws-secrets-manager",
                "secret_id": "order-intake/prod/database",
                "key": "password",
                "dest": SECRETS_DIR + "/database-password",
            },
            {
                "name": "api-token",
                "backend": "value",
                "value": "{{ vault_api_token }}",
                "rotated_on": "2020-01-15",
                "dest": SECRETS_DIR + "/api-token",
                "mode": "0400",
            },
        ],
        "security_scan_paths": [str(artifacts)],
        "security_report_controller_dir": str(tmp / "reports"),
    }
    (tmp / "vars.json").write_text(json.dumps(variables))
    # app1: sshd reads the drop-in folder first, as Debian's stock configuration does, and a drop-in weakens it
    bed.run("app1", ["mkdir", "-p", "/etc/ssh/sshd_config.d"])
    bed.run("app1", ["sh", "-c", "printf '%s' \"$1\" > /etc/ssh/sshd_config.d/50-cloud-init.conf", "sh", DROPIN])
    bed.run("app1", ["sed", "-i", "1i Include /etc/ssh/sshd_config.d/*.conf", SSHD_CONFIG])
    bed.run("app1", ["sh", "-c", "kill -HUP $(cat /run/sshd.pid)"])
    time.sleep(0.5)
    return {"tmp": tmp, "bed": bed, "env": env, "inventory": inventory, "moto": moto}


def playbook(
    setup, *args: str, extra: object = None, name: str = "run", limit: str = ",".join(ROLE_HOSTS)
) -> subprocess.CompletedProcess:
    tmp = setup["tmp"]
    argv = [
        str(BIN / "ansible-playbook"),
        "-i",
        setup["inventory"],
        "sdd.devops_flow.security",
        "-e",
        "@%s" % (tmp / "vars.json"),
        "-e",
        "@%s" % (tmp / "vault.yml"),
        "--vault-password-file",
        str(tmp / "vault-password"),
        "--limit",
        limit,
    ]
    if extra is not None:
        argv += ["-e", json.dumps(extra)]
    started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        argv + list(args), capture_output=True, text=True, env=setup["env"], timeout=600, check=False
    )
    (tmp / ("%s.out" % name)).write_text(result.stdout + result.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        "ansible-playbook %s: %.1f s, %.1f s CPU on the controller"
        % (name, time.monotonic() - started, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime)
    )
    return result


# --------------------------------------------------------------------------- tests


def test_before_the_role_the_dropin_weakens_sshd(setup):
    bed = setup["bed"]
    effective = bed.run("app1", ["/usr/sbin/sshd", "-T", "-f", SSHD_CONFIG]).stdout
    assert "passwordauthentication yes" in effective and "x11forwarding yes" in effective
    refused = new_ssh(bed, "app1", "-o", "PubkeyAuthentication=no")
    assert "password" in refused.stderr, refused.stderr


def test_check_mode_on_a_fresh_host_changes_nothing(setup):
    bed = setup["bed"]
    before = host_files(bed)
    sysctl_before = bed.run("app1", ["sysctl", "-n", "net.ipv4.conf.all.accept_redirects"]).stdout
    # one fresh host is enough to show it (and keeps the test short); the bed's other hosts are left alone
    result = playbook(setup, "--check", name="check", limit="app1")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    counts = recap(result.stdout)["app1"]
    assert counts["failed"] == 0 and counts["changed"] > 0  # it says what it would change, and changes nothing
    after = host_files(bed)
    assert sorted(after) == sorted(before), set(after) ^ set(before)
    assert [k for k in after if after[k] != before[k]] == []
    for name in HOSTS:
        assert bed.run(name, ["nft", "list", "ruleset"]).stdout.strip() == ""
    assert bed.run("app1", ["sysctl", "-n", "net.ipv4.conf.all.accept_redirects"]).stdout == sysctl_before
    assert not (setup["tmp"] / "reports").exists()


def test_the_role_runs(setup):
    result = playbook(setup, "-vvv", name="first")
    setup["first"] = result.stdout + result.stderr
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    counts = recap(result.stdout)
    assert sorted(counts) == sorted(ROLE_HOSTS)
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values())


def test_sshd_is_hardened_over_the_dropin_and_takes_the_key(setup):
    bed = setup["bed"]
    for name in ROLE_HOSTS:
        effective = dict(
            line.split(" ", 1)
            for line in bed.run(name, ["/usr/sbin/sshd", "-T", "-f", SSHD_CONFIG]).stdout.splitlines()
        )
        for key, value in HARDENED.items():
            assert effective.get(key) == value, (name, key, effective.get(key))
        # a new connection with the test key works, and shows the banner: the running sshd has reloaded
        login = new_ssh(bed, name)
        assert login.returncode == 0 and login.stdout.strip() == "connected", login.stderr
        assert "Authorised access only" in login.stderr
    # the drop-in still says yes, but the running sshd of app1 offers only keys now
    assert "PasswordAuthentication yes" in bed.run("app1", ["cat", "/etc/ssh/sshd_config.d/50-cloud-init.conf"]).stdout
    refused = new_ssh(bed, "app1", "-o", "PubkeyAuthentication=no")
    assert refused.returncode != 0 and "Permission denied (publickey)" in refused.stderr, refused.stderr


def test_firewall_follows_the_topology(setup):
    bed = setup["bed"]
    app, lb = Listener(bed, "app1", [8080, 9100]), Listener(bed, LB, [80])
    try:
        assert probe(bed, LB, "app1", 8080) == "open"  # load balancer -> application
        assert probe(bed, "app2", "app1", 8080) == "blocked"  # another host
        assert probe(bed, LB, "app1", 9100) == "open"  # Prometheus -> node exporter
        assert probe(bed, "app2", "app1", 9100) == "blocked"
        assert probe(bed, "app2", "app1", 22) == "blocked"  # SSH only from the controller
        assert probe(bed, "app2", LB, 80) == "open"  # the load balancer serves clients
    finally:
        app.stop()
        lb.stop()
    chain = bed.run("app1", ["nft", "list", "chain", "inet", "sdd_security", "input"]).stdout
    rules = [r.strip() for r in chain.splitlines()]
    rules = [r for r in rules if r and not r.startswith(("table ", "chain ", "type ", "}"))]
    assert rules[0].startswith("tcp dport 22 ip saddr %s accept" % CONTROLLER), rules
    assert "policy drop" in chain
    assert 'include "/etc/nftables.d/sdd-security.nft"' in bed.run("app1", ["cat", "/etc/nftables.conf"]).stdout


def test_secrets_reach_their_files_and_nothing_else(setup):
    bed, tmp = setup["bed"], setup["tmp"]
    for name in ROLE_HOSTS:
        listing = bed.run(
            name,
            ["stat", "-c", "%a %U %n", SECRETS_DIR, SECRETS_DIR + "/database-password", SECRETS_DIR + "/api-token"],
        ).stdout.split("\n")
        assert listing[:3] == [
            "700 root %s" % SECRETS_DIR,
            "600 root %s/database-password" % SECRETS_DIR,
            "400 root %s/api-token" % SECRETS_DIR,
        ]
        assert bed.run(name, ["cat", SECRETS_DIR + "/database-password"]).stdout == DB_PASSWORD
        assert bed.run(name, ["cat", SECRETS_DIR + "/api-token"]).stdout == API_TOKEN
    output = setup["first"]
    assert "<%s> ESTABLISH SSH CONNECTION" % bed.address("app1") in output  # it is -vvv output
    destinations = ("/upper%s/database-password" % SECRETS_DIR, "/upper%s/api-token" % SECRETS_DIR)
    for value in SECRET_VALUES:
        assert value not in output
        # every file of the hosts (their overlays, sshd logs) and of the controller (Ansible's folders, the
        # reports, the outputs of every run, moto's log) but the two destinations
        for folder in (Path(bed.dir), tmp):
            for path in folder.rglob("*"):
                if path.is_file() and not path.is_symlink() and not str(path).endswith(destinations):
                    assert value.encode() not in path.read_bytes(), path


def test_compliance_reports(setup):
    bed, tmp = setup["bed"], setup["tmp"]
    for name in ROLE_HOSTS:
        report = json.loads((tmp / "reports" / ("%s.json" % name)).read_text())
        on_host = json.loads(bed.run(name, ["cat", "/var/lib/sdd-devops-flow/security/compliance.json"]).stdout)
        assert dict(on_host, generated_at=None) == dict(report, generated_at=None)
        markdown = (tmp / "reports" / ("%s.md" % name)).read_text()
        assert markdown.startswith("# Compliance report: %s" % name)
        controls = {c["id"]: c for c in report["controls"]}
        # every 9.5.6 row of REQ-14, with its document line
        for row in ("secrets", "tls", "iam", "network_rules[0]", "image_scanning"):
            assert "REQ-14_order_intake_api.md:" in controls["9.5.6.%s" % row]["source"], row
        assert controls["9.5.6.image_scanning"]["status"] == "pass"
        assert controls["ssh.passwordauthentication"]["status"] == "pass"
        assert controls["firewall"]["status"] == "pass"
        assert controls["firewall.ssh"]["status"] == "pass"
        assert controls["firewall.ssh"]["evidence"].startswith("first rule: tcp dport 22 ip saddr %s" % CONTROLLER)
        assert controls["secrets.database"]["status"] == "pass"
        assert "within the 30 days" in controls["secrets.database"]["evidence"]
        assert controls["secrets.api-token"]["status"] == "fail"
        assert "older than the 30 days" in controls["secrets.api-token"]["evidence"]
        assert controls["updates"]["status"] == "not-applicable"
        assert controls["audit"]["status"] == "not-applicable"
        assert controls["sysctl.net.ipv4.conf.all.accept_redirects"]["status"] == "pass"
        assert controls["files./etc/shadow"]["status"] == "pass"
        assert "| Secrets Management |" in markdown
    app1 = {c["id"]: c for c in json.loads((tmp / "reports" / "app1.json").read_text())["controls"]}
    assert app1["9.5.6.network_rules[0]"]["status"] == "pass"
    assert "8080 only from %s" % bed.address(LB) in app1["9.5.6.network_rules[0]"]["evidence"]
    assert "overridden" in app1["ssh.dropins"]["evidence"]


def test_second_run_changes_nothing(setup):
    result = playbook(setup, name="second")
    assert result.returncode == 0, result.stdout[-4000:]
    counts = recap(result.stdout)
    assert {name: c["changed"] for name, c in counts.items()} == dict.fromkeys(counts, 0), result.stdout[-6000:]


def test_a_firewall_that_locks_the_controller_out_is_rolled_back(setup):
    bed = setup["bed"]
    before = bed.run("app1", ["nft", "list", "table", "inet", "sdd_security"]).stdout
    result = playbook(
        setup,
        extra={
            "security_phases": ["firewall"],
            "security_firewall_keep_controller": False,
            "security_ssh_admin_networks": ["192.0.2.0/24"],
            "security_confirm_timeout": 2,
            "security_rollback_seconds": 6,
        },
        name="lockout",
        limit="app1",
    )
    assert result.returncode != 0
    assert "would have locked the controller out" in result.stdout, result.stdout[-4000:]
    assert new_ssh(bed, "app1").returncode == 0
    assert bed.run("app1", ["nft", "list", "table", "inet", "sdd_security"]).stdout == before
    # the ruleset file (loaded at boot) is the previous table again
    on_disk = bed.run("app1", ["cat", "/etc/nftables.d/sdd-security.nft"]).stdout
    assert "192.0.2.0/24" not in on_disk and "ip saddr %s accept" % CONTROLLER in on_disk


def test_a_scan_over_the_threshold_fails_the_play(setup):
    bad = setup["tmp"] / "generated-bad"
    bad.mkdir()
    (bad / "Dockerfile").write_text("FROM python:latest\nRUN pip install flask\nCMD python app.py\n")
    result = playbook(
        setup,
        extra={"security_phases": ["scan"], "security_scan_paths": [str(bad)]},
        name="scan",
        limit="app1",
    )
    assert result.returncode != 0
    assert "failed the 9.5.6 threshold" in result.stdout, result.stdout[-4000:]
    assert "DL3007" in result.stdout
