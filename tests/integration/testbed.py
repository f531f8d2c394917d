"""A test bed of real hosts on one machine: network namespaces running their own sshd.

Each host is a network namespace with a veth link to a bridge, its own hostname
(UTS namespace), its own files (an overlay over /etc /opt /srv /var /home /usr /root
in a private mount namespace) and a tmpfs /run, reached over real SSH with a key
made for the bed.  Hosts have no network beyond the bridge: packages must already
be installed on the machine (the overlay shows them).

    with Testbed(["lb", "app1", "app2"]) as bed:
        bed.inventory(path)                  # an Ansible inventory for the hosts
        bed.run("app1", "hostname")          # a command inside a host (as root)
        bed.ssh("app1", "true")              # the same over SSH

Needs root, iproute2, util-linux (unshare, nsenter) and openssh-server.
Used by the integration tests and by benchmarks/deploy.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

OVERLAID = ("/etc", "/opt", "/srv", "/var", "/home", "/usr", "/root")


def _run(argv: Sequence[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, **kwargs)


def _alive(pid: int) -> bool:
    """True while a process runs (a zombie waiting to be reaped does not count)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def requirements_missing() -> List[str]:
    """What this machine lacks to build a test bed (empty when it can)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for tool in ("ip", "unshare", "nsenter", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            missing.append(tool)
    if not os.path.exists("/usr/sbin/sshd"):
        missing.append("sshd (openssh-server)")
    return missing


@dataclass
class Host:
    name: str
    address: str
    netns: str
    root: str  # folder holding the overlay layers and the init script
    process: Optional[subprocess.Popen] = None


class Testbed:
    """Create hosts on enter, remove every trace on exit (also after failures)."""

    __test__ = False  # a helper, not a test class, though its name starts with "Test"

    def __init__(
        self, names: Iterable[str], subnet: str = "10.123.0", bridge: str = "sddbr0", prefix: str = "sdd"
    ) -> None:
        self.names = list(names)
        self.subnet = subnet
        self.bridge = bridge
        self.prefix = prefix
        self.gateway = "%s.1" % subnet
        self.hosts: Dict[str, Host] = {}
        self.dir = tempfile.mkdtemp(prefix="sdd-testbed-")
        self.key = os.path.join(self.dir, "id_ed25519")
        self.control_dir = os.path.join(self.dir, "cp")

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Testbed:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        missing = requirements_missing()
        if missing:
            raise RuntimeError("cannot build the test bed: missing %s" % ", ".join(missing))
        os.makedirs(self.control_dir, exist_ok=True)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key])
        self._cleanup_leftovers()
        _run(["ip", "link", "add", self.bridge, "type", "bridge"])
        _run(["ip", "addr", "add", "%s/24" % self.gateway, "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])
        for index, name in enumerate(self.names):
            self._add_host(name, "%s.%d" % (self.subnet, 10 + index))
        for host in self.hosts.values():
            self._wait_for_ssh(host)

    def stop(self) -> None:
        for name in list(self.hosts):
            host = self.hosts.pop(name)
            subprocess.run(
                ["ssh", "-O", "exit", "-o", "ControlPath=%s/%%r@%%h:%%p" % self.control_dir, "root@%s" % host.address],
                capture_output=True,
                check=False,
            )
            self._kill_namespace(host.netns)
            if host.process is not None:
                try:
                    host.process.wait(5)
                except subprocess.TimeoutExpired:
                    host.process.kill()
            _run(["ip", "netns", "delete", host.netns], check=False)
            _run(["ip", "link", "delete", "v-%s-%s" % (self.prefix, name)], check=False)
        _run(["ip", "link", "delete", self.bridge], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _cleanup_leftovers(self) -> None:
        """Remove a bed with the same names that a killed run left behind."""
        for name in self.names:
            netns = "%s-%s" % (self.prefix, name)
            if os.path.exists("/run/netns/%s" % netns):
                self._kill_namespace(netns)
                _run(["ip", "netns", "delete", netns], check=False)
            _run(["ip", "link", "delete", "v-%s-%s" % (self.prefix, name)], check=False)
        _run(["ip", "link", "delete", self.bridge], check=False)

    @staticmethod
    def _kill_namespace(netns: str) -> None:
        result = _run(["ip", "netns", "pids", netns], check=False)
        pids = [int(p) for p in result.stdout.split()]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 3
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if _alive(p)]
                if pids:
                    time.sleep(0.05)

    # ------------------------------------------------------------------ hosts

    def _add_host(self, name: str, address: str) -> None:
        netns = "%s-%s" % (self.prefix, name)
        root = os.path.join(self.dir, name)
        os.makedirs(root)
        host = Host(name, address, netns, root)
        veth = "v-%s-%s" % (self.prefix, name)
        _run(["ip", "netns", "add", netns])
        _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
        _run(["ip", "link", "set", veth, "master", self.bridge, "up"])
        for argv in (
            ["ip", "addr", "add", "%s/24" % address, "dev", "eth0"],
            ["ip", "link", "set", "eth0", "up"],
            ["ip", "link", "set", "lo", "up"],
            ["ip", "route", "add", "default", "via", self.gateway],
        ):
            _run(["ip", "netns", "exec", netns, *argv])
        self._write_init(host)
        with open(os.path.join(root, "init.log"), "w") as log:
            proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    netns,
                    "unshare",
                    "--uts",
                    "--mount",
                    "--propagation",
                    "private",
                    os.path.join(root, "init.sh"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        host.process = proc
        self.hosts[name] = host

    def _write_init(self, host: Host) -> None:
        hosts_file = "127.0.0.1 localhost\n%s %s\n" % (host.address, host.name)
        hosts_file += "".join(
            "%s.%d %s\n" % (self.subnet, 10 + i, n) for i, n in enumerate(self.names) if n != host.name
        )
        hosts_file += "%s gateway\n" % self.gateway
        sshd_config = textwrap.dedent("""\
            Port 22
            ListenAddress {address}
            HostKey /etc/sdd-testbed/ssh_host_ed25519_key
            PidFile /run/sshd.pid
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            AuthorizedKeysFile /etc/sdd-testbed/authorized_keys
            UsePAM no
            StrictModes no
            UseDNS no
            MaxStartups 100:30:200
            MaxSessions 50
            Subsystem sftp internal-sftp
            """).format(address=host.address)
        with open(os.path.join(host.root, "sshd_config"), "w") as handle:
            handle.write(sshd_config)
        shutil.copy(self.key + ".pub", os.path.join(host.root, "authorized_keys"))
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(host.root, "ssh_host_ed25519_key")])
        mounts = []
        for path in OVERLAID:
            upper = os.path.join(host.root, "upper" + path)
            work = os.path.join(host.root, "work" + path)
            mounts.append(
                "mkdir -p %s %s\nmount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s"
                % (upper, work, path, upper, work, path)
            )
        script = "#!/bin/bash\nset -euo pipefail\nhostname %s\n%s\n" % (host.name, "\n".join(mounts))
        script += textwrap.dedent("""\
            mkdir -p /etc/sdd-testbed
            cp {root}/sshd_config {root}/ssh_host_ed25519_key {root}/authorized_keys /etc/sdd-testbed/
            chmod 600 /etc/sdd-testbed/ssh_host_ed25519_key
            mount -t tmpfs -o mode=0755 tmpfs /run
            mkdir -p /run/sshd /run/lock
            mount -t tmpfs tmpfs /tmp
            chmod 1777 /tmp
            printf '%s' "{hosts}" > /etc/hosts
            echo 'nameserver 127.0.0.1' > /etc/resolv.conf
            echo '{name}' > /etc/hostname
            exec /usr/sbin/sshd -D -e -f /etc/sdd-testbed/sshd_config
            """).format(hosts=hosts_file, name=host.name, root=host.root)
        path = os.path.join(host.root, "init.sh")
        with open(path, "w") as handle:
            handle.write(script)
        os.chmod(path, 0o700)

    def _wait_for_ssh(self, host: Host, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host.address, 22), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        with open(os.path.join(host.root, "init.log")) as handle:
            log = handle.read()
        raise RuntimeError("sshd of %s did not start:\n%s" % (host.name, log))

    # ------------------------------------------------------------------ using hosts

    def address(self, name: str) -> str:
        return self.hosts[name].address

    def ssh_args(self) -> List[str]:
        return [
            "-i",
            self.key,
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ControlMaster=auto",
            "-o",
            "ControlPersist=120s",
            "-o",
            "ControlPath=%s/%%r@%%h:%%p" % self.control_dir,
            "-o",
            "IdentitiesOnly=yes",
        ]

    def ssh(self, name: str, command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a shell command on a host over SSH."""
        return subprocess.run(
            ["ssh", *self.ssh_args(), "root@%s" % self.address(name), command],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def run(
        self, name: str, argv: Sequence[str], check: bool = True, timeout: Optional[float] = 60
    ) -> subprocess.CompletedProcess:
        """Run a program inside a host's namespaces (its files, network and hostname)."""
        host = self.hosts[name]
        pid = self._sshd_pid(host)
        return subprocess.run(
            ["nsenter", "-t", str(pid), "-m", "-u", "-n", "--", *argv],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def _sshd_pid(self, host: Host) -> int:
        """The host's listening sshd (the process its init script became)."""
        for pid in _run(["ip", "netns", "pids", host.netns], check=False).stdout.split():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as handle:
                    cmdline = handle.read().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "sshd -D -e -f /etc/sdd-testbed/sshd_config" in cmdline:
                return int(pid)
        raise RuntimeError("sshd of %s is not running" % host.name)

    def stop_sshd(self, name: str) -> None:
        """Kill every sshd process of a host, its listener and open sessions: the host is
        gone for SSH clients (its other programs keep running)."""
        host = self.hosts[name]
        subprocess.run(
            ["ssh", "-O", "exit", "-o", "ControlPath=%s/%%r@%%h:%%p" % self.control_dir, "root@%s" % host.address],
            capture_output=True,
            check=False,
        )
        for pid in _run(["ip", "netns", "pids", host.netns], check=False).stdout.split():
            try:
                with open("/proc/%s/comm" % pid) as handle:
                    comm = handle.read().strip()
            except OSError:
                continue
            if comm == "sshd":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)

    def inventory(
        self,
        path: str,
        groups: Optional[Dict[str, Sequence[str]]] = None,
        host_vars: Optional[Dict[str, Dict[str, object]]] = None,
    ) -> str:
        """Write an INI inventory of the hosts (all of them in group ``testbed``)."""
        lines = [
            "[all:vars]",
            "ansible_user=root",
            "ansible_ssh_private_key_file=%s" % self.key,
            "ansible_python_interpreter=/usr/bin/python3",
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            "-o IdentitiesOnly=yes'",
            "",
            "[testbed]",
        ]
        for host in self.hosts.values():
            extra = " ".join("%s=%s" % (k, v) for k, v in (host_vars or {}).get(host.name, {}).items())
            lines.append(("%s ansible_host=%s %s" % (host.name, host.address, extra)).rstrip())
        for group, members in (groups or {}).items():
            lines += ["", "[%s]" % group, *members]
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path
