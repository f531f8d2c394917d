# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client for HAProxy's runtime API (the admin socket): server state, weights, sessions.

Changes go through the socket, so they take effect without a reload and without
dropping a connection.  Several commands are sent in one session separated by
``;``: HAProxy runs them in order within a few microseconds, which is how a
traffic switch is made atomic for clients.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

# srv_admin_state bits (see HAProxy's management guide, "show servers state")
_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
_DRAIN_BITS = 0x08 | 0x10

STATES = ("ready", "drain", "maint")


class HaproxyError(Exception):
    """The admin socket could not be used or answered an error."""


@dataclass
class ServerState:
    name: str
    state: str  # ready | drain | maint
    weight: int
    sessions: int = 0
    status: str = ""  # UP / DOWN / MAINT / DRAIN / no check
    address: str = ""  # host:port the load balancer sends this server's traffic to

    def to_dict(self) -> Dict[str, object]:
        return {"state": self.state, "weight": self.weight, "sessions": self.sessions, "status": self.status}


class RuntimeApi:
    """Talks to one HAProxy admin socket (a UNIX socket path or ``host:port``)."""

    def __init__(self, address: str, timeout: float = 5.0) -> None:
        self.address = address
        self.timeout = timeout

    def command(self, text: str) -> str:
        """Send one line (commands separated by ';') and return the answer."""
        if "\n" in text:
            raise HaproxyError("a runtime API command cannot span lines")
        try:
            if ":" in self.address and not self.address.startswith("/"):
                host, port = self.address.rsplit(":", 1)
                conn = socket.create_connection((host, int(port)), timeout=self.timeout)
            else:
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.settimeout(self.timeout)
                conn.connect(self.address)
        except (OSError, ValueError) as exc:
            raise HaproxyError("cannot connect to the HAProxy admin socket %s: %s" % (self.address, exc)) from None
        chunks: List[bytes] = []
        try:
            conn.sendall(text.encode("utf-8") + b"\n")
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except OSError as exc:
            raise HaproxyError("the HAProxy admin socket %s failed: %s" % (self.address, exc)) from None
        finally:
            conn.close()
        return b"".join(chunks).decode("utf-8", "replace")

    def servers(self, backend: str) -> Dict[str, ServerState]:
        """Every server of a backend with its admin state, weight and current sessions."""
        answer = self.command("show servers state %s" % backend)
        if "Can't find backend" in answer or "No such backend" in answer:
            raise HaproxyError("HAProxy has no backend %r" % backend)
        result: Dict[str, ServerState] = {}
        for line in answer.splitlines():
            if not line or line.startswith("#") or line[0].isalpha():
                continue
            fields = line.split()
            if len(fields) < 8 or fields[1] != backend:
                continue
            admin = int(fields[6])
            state = "maint" if admin & _MAINT_BITS else ("drain" if admin & _DRAIN_BITS else "ready")
            # srv_addr is the fifth field, srv_port the nineteenth (HAProxy 1.8 and later)
            address = "%s:%s" % (fields[4], fields[18]) if len(fields) > 18 else ""
            result[fields[3]] = ServerState(fields[3], state, int(fields[7]), address=address)
        stats = self.command("show stat")
        header: List[str] = []
        for line in stats.splitlines():
            if line.startswith("# "):
                header = line[2:].split(",")
                continue
            if not line or not header:
                continue
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == backend and row.get("svname") in result:
                server = result[row["svname"]]
                server.sessions = int(row.get("scur") or 0)
                server.status = row.get("status", "")
        return result

    def apply(self, backend: str, changes: Dict[str, Dict[str, object]]) -> None:
        """Set weights and states of several servers in one session (in this order:
        servers that gain traffic first, then those that lose it)."""
        gaining: List[str] = []
        losing: List[str] = []
        for name, wanted in changes.items():
            target = "%s/%s" % (backend, name)
            commands = []
            if "state" in wanted and wanted["state"] == "ready":
                commands.append("set server %s state ready" % target)
            if "weight" in wanted:
                commands.append("set server %s weight %d" % (target, int(str(wanted["weight"]))))
            if "state" in wanted and wanted["state"] in ("drain", "maint"):
                commands.append("set server %s state %s" % (target, wanted["state"]))
            if wanted.get("state") in ("drain", "maint") or wanted.get("weight") == 0:
                losing.extend(commands)
            else:
                gaining.extend(commands)
        batch = gaining + losing
        if not batch:
            return
        answer = self.command("; ".join(batch))
        problems = [ln for ln in answer.splitlines() if ln.strip() and not ln.startswith(("Done", "\n"))]
        problems = [p for p in problems if "No such" in p or "Require" in p or "Unknown" in p or "invalid" in p]
        if problems:
            raise HaproxyError("HAProxy refused: %s" % " | ".join(problems))

    def wait_drained(self, backend: str, names: Sequence[str], timeout: float, poll: float = 0.2) -> Dict[str, int]:
        """Wait until the servers have no session left; returns the sessions still open."""
        deadline = time.monotonic() + timeout
        remaining: Dict[str, int] = {}
        while True:
            current = self.servers(backend)
            remaining = {n: current[n].sessions for n in names if n in current and current[n].sessions > 0}
            if not remaining or time.monotonic() >= deadline:
                return remaining
            time.sleep(poll)


def parse_weight(value: object) -> Optional[int]:
    if value is None:
        return None
    weight = int(str(value))
    if not 0 <= weight <= 256:
        raise ValueError("a weight is between 0 and 256, got %d" % weight)
    return weight
