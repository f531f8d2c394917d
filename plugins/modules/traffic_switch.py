#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traffic_switch
short_description: Shift traffic between servers of a load balancer (HAProxy runtime API or nginx)
version_added: "0.1.0"
description:
  - Reads and sets the weight and state (ready, drain, maint) of the servers of one load balancer backend.
  - With O(lb=haproxy) every change goes through HAProxy's runtime API on the admin socket - no reload,
    no dropped connection. All changes of one task are sent in one session, servers that gain traffic first,
    so a blue-green switch is atomic for clients.
  - With O(lb=nginx) the module rewrites the upstream include file, checks the whole configuration with
    C(nginx -t), restores the previous file when the check fails, and reloads nginx. nginx has no drain state, so
    V(drain) and V(maint) both mark the server C(down).
  - Without O(servers) or O(rollback) the module only reads the backend's state.
  - With O(rollback) it returns the traffic to the colour that held it before the last deployment of the role
    C(sdd.devops_flow.deploy), as recorded in the deployment state file of M(sdd.devops_flow.deploy_state),
    and records the rollback there - all in this one call on the load balancer host.
  - Idempotent - a server already at the wanted weight and state is left alone.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  backend:
    description:
      - Name of the HAProxy backend, or of the nginx upstream.
    type: str
    required: true
  servers:
    description:
      - Wanted settings per server name. Servers not listed are left as they are.
      - Mutually exclusive with O(rollback).
    type: dict
  rollback:
    description:
      - Back to the previous colour of a blue-green or canary deployment, in one call. The module reads the state
        file (which colour is live, which one held the traffic before, and the release of each), gives every
        server C(<host>_<previous colour>) weight 100 and drains every C(<host>_<live colour>), with the readiness
        guard of O(ready_path), then writes the state with the colours swapped (a temporary file and a rename).
      - When a server of the previous colour is not ready, nothing changes (neither the traffic nor the state file)
        and the task fails with RV(not_ready) and the state in RV(state_before).
      - The task fails without a change when the state records no previous release.
      - Mutually exclusive with O(servers).
    type: dict
    suboptions:
      state_file:
        description:
          - The deployment state file (JSON with C(live), C(previous) and C(versions)).
        type: path
        required: true
      hosts:
        description:
          - The application hosts; their servers in the backend are C(<host>_blue) and C(<host>_green).
        type: list
        elements: str
        required: true
      addresses:
        description:
          - With O(lb=nginx), each host's address (a host name or IP address); a host not listed is reached by
            its name.
        type: dict
        default: {}
      blue_port:
        description:
          - With O(lb=nginx), the port of the blue servers.
        type: int
        default: 8080
      green_port:
        description:
          - With O(lb=nginx), the port of the green servers.
        type: int
        default: 8081
  lb:
    description:
      - The load balancer.
    type: str
    choices: [haproxy, nginx]
    default: haproxy
  socket:
    description:
      - HAProxy admin socket, a UNIX socket path or C(host:port). It must be at C(level admin).
    type: str
    default: /run/haproxy/admin.sock
  wait_drained:
    description:
      - After the change, wait until every server that is in V(drain) or V(maint) state or has weight 0 has no
        session left (HAProxy only).
    type: bool
    default: false
  drain_timeout:
    description:
      - Seconds to wait for O(wait_drained). The task fails when sessions remain.
    type: int
    default: 60
  nginx_upstream_file:
    description:
      - The file that holds the C(upstream) block (included from the nginx configuration). Required with O(lb=nginx).
    type: path
  nginx_config:
    description:
      - The main nginx configuration checked with C(nginx -t -c) before a reload.
    type: path
    default: /etc/nginx/nginx.conf
  nginx_binary:
    description:
      - The nginx program.
    type: path
    default: /usr/sbin/nginx
  ready_path:
    description:
      - A readiness guard. Before any change, every server of O(servers) (or of O(rollback)) that carries
        traffic after the change (state V(ready), weight above 0) must answer an HTTP C(GET) of this path with
        status 200, asked from the load balancer host at the server's address (HAProxy's C(srv_addr:srv_port), or
        the V(address) given for nginx).
      - When a server does not answer in time, nothing is changed and the task fails with the servers in
        RV(not_ready), so a playbook can start them and try again. In check mode the servers are asked too.
      - Without it, traffic moves without asking the servers (HAProxy's own health checks still apply).
    type: str
  ready_timeout:
    description:
      - Seconds each server of O(ready_path) has to answer. The servers are asked at the same time.
    type: float
    default: 2
attributes:
  check_mode:
    support: full
    description: Reads the current state and reports the change without making it.
  diff_mode:
    support: full
    description: Shows the servers' weight and state before and after.
notes:
  - Server options in O(servers) are V(weight) (0 to 256), V(state) (V(ready), V(drain) or V(maint)) and, with
    O(lb=nginx), V(address) (C(host:port)).
seealso:
  - module: sdd.devops_flow.canary_analysis
  - module: sdd.devops_flow.feature_flag
"""

EXAMPLES = r"""
- name: Switch traffic from blue to green, keeping blue running for a rollback
  sdd.devops_flow.traffic_switch:
    backend: orders
    servers:
      app1_green: {weight: 100, state: ready}
      app2_green: {weight: 100, state: ready}
      app1_blue: {state: drain}
      app2_blue: {state: drain}
    wait_drained: true
  delegate_to: lb1

- name: Send 5 percent of the traffic to the canary
  sdd.devops_flow.traffic_switch:
    backend: orders
    servers:
      app1_blue: {weight: 95}
      app1_green: {weight: 5, state: ready}

- name: Read the backend
  sdd.devops_flow.traffic_switch:
    backend: orders
  register: lb_state

- name: Roll back to blue in one step, only when every blue server is ready
  sdd.devops_flow.traffic_switch:
    backend: orders
    servers:
      app1_blue: {weight: 100, state: ready}
      app1_green: {state: drain}
    ready_path: /health/ready
    ready_timeout: 2
  register: rollback
  failed_when: rollback is failed and rollback.not_ready is not defined

- name: Back to the release before the last deployment, and record it, in one call
  sdd.devops_flow.traffic_switch:
    backend: orders
    rollback:
      state_file: /var/lib/sdd-devops-flow/orders-prod.json
      hosts: [app1, app2, app3]
    ready_path: /health/ready
  register: back
  failed_when: back is failed and back.not_ready is not defined
  delegate_to: lb1
  run_once: true

- name: nginx upstream weights
  sdd.devops_flow.traffic_switch:
    lb: nginx
    backend: orders
    nginx_upstream_file: /etc/nginx/conf.d/orders-upstream.conf
    servers:
      blue: {address: "127.0.0.1:8080", weight: 9}
      green: {address: "127.0.0.1:8081", weight: 1}
"""

RETURN = r"""
before:
  description: Each server's state, weight, current sessions and health status before the change.
  returned: always
  type: dict
  sample: {"app1_blue": {"state": "ready", "weight": 100, "sessions": 12, "status": "UP"}}
after:
  description: The same after the change (in check mode, what it would be).
  returned: always
  type: dict
  sample: {"app1_blue": {"state": "drain", "weight": 100, "sessions": 0, "status": "DRAIN"}}
remaining_sessions:
  description: Sessions still open on draining servers when O(wait_drained) gave up.
  returned: when O(wait_drained=true)
  type: dict
  sample: {}
switch_seconds:
  description: How long applying the change took, in seconds.
  returned: changed
  type: float
  sample: 0.002
not_ready:
  description: The servers that did not pass the readiness guard of O(ready_path), each with the reason.
  returned: when O(ready_path) is set and a server was not ready (the task failed and changed nothing)
  type: dict
  sample: {"app1_blue": "10.0.0.11:8080: connection refused"}
state_before:
  description: The deployment state read from O(rollback.state_file).
  returned: with O(rollback), when the file could be read
  type: dict
  sample: {"live": "green", "previous": "blue", "versions": {"blue": "1.4.0", "green": "1.5.0"}}
state:
  description: The deployment state after the rollback (in check mode, what it would be).
  returned: with O(rollback), on success
  type: dict
  sample: {"live": "blue", "previous": "green", "versions": {"blue": "1.4.0", "green": "1.5.0"}}
"""

import http.client
import os
import re
import threading
import time
from typing import Any, Dict, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.haproxy import (
    STATES,
    HaproxyError,
    RuntimeApi,
    parse_weight,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.jsonfile import (
    JsonFileError,
    dump,
    read_object,
    write_atomic,
)


def _wanted(module: AnsibleModule) -> Dict[str, Dict[str, Any]]:
    wanted: Dict[str, Dict[str, Any]] = {}
    for name, options in (module.params["servers"] or {}).items():
        if not isinstance(options, dict):
            module.fail_json(msg="servers.%s must be a dict with weight, state or address" % name)
        unknown = set(options) - {"weight", "state", "address"}
        if unknown:
            module.fail_json(
                msg="servers.%s has unknown options %s; expected weight, state, address"
                % (name, ", ".join(sorted(unknown)))
            )
        entry: Dict[str, Any] = {}
        if options.get("weight") is not None:
            try:
                entry["weight"] = parse_weight(options["weight"])
            except ValueError as exc:
                module.fail_json(msg="servers.%s: %s" % (name, exc))
        if options.get("state") is not None:
            if options["state"] not in STATES:
                module.fail_json(msg="servers.%s: state must be one of %s" % (name, ", ".join(STATES)))
            entry["state"] = options["state"]
        if options.get("address") is not None:
            entry["address"] = str(options["address"])
        wanted[str(name)] = entry
    return wanted


def _changes(current: Dict[str, Dict[str, Any]], wanted: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    changes: Dict[str, Dict[str, Any]] = {}
    for name, options in wanted.items():
        have = current.get(name, {})
        delta = {k: v for k, v in options.items() if have.get(k) != v}
        if delta:
            changes[name] = delta
    return changes


def probe(address: str, path: str, timeout: float) -> Optional[str]:
    """None when ``GET path`` on ``host:port`` answers 200 in time, else the reason."""
    host, _sep, port = address.rpartition(":")
    if not host or not port.isdigit():
        return "%s: not a host:port address" % address
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return "%s: %s" % (address, str(exc) or type(exc).__name__)
    finally:
        conn.close()
    return None if status == 200 else "%s: HTTP %d on %s" % (address, status, path)


def not_ready(targets: Dict[str, str], path: str, timeout: float) -> Dict[str, str]:
    """Asks every server (name -> address) at once; returns name -> reason for those not ready."""
    reasons: Dict[str, str] = {}
    lock = threading.Lock()

    def ask(name: str, address: str) -> None:
        reason = probe(address, path, timeout) if address else "no address known"
        if reason:
            with lock:
                reasons[name] = reason

    threads = {
        name: threading.Thread(target=ask, args=(name, address), daemon=True) for name, address in targets.items()
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + timeout + 1
    for name, thread in sorted(threads.items()):
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            # the socket timeout does not bound everything (name resolution, for one)
            with lock:
                reasons.setdefault(name, "%s: no answer in %ss" % (targets[name], timeout))
    return reasons


def guard(
    module: AnsibleModule,
    wanted: Dict[str, Dict[str, Any]],
    after: Dict[str, Dict[str, Any]],
    addresses: Dict[str, str],
    before: Dict[str, Any],
    extra: Dict[str, Any],
) -> None:
    """Fails without a change when a server that carries traffic after the change is not ready
    (with ``extra`` in the result: the state O(rollback) read)."""
    path = module.params["ready_path"]
    if not path:
        return
    if not path.startswith("/"):
        module.fail_json(msg="ready_path must start with /, got %r" % path)
    targets = {
        name: addresses.get(name, "")
        for name in wanted
        if after.get(name, {}).get("state") == "ready" and int(after.get(name, {}).get("weight") or 0) > 0
    }
    reasons = not_ready(targets, path, float(module.params["ready_timeout"]))
    if reasons:
        module.fail_json(
            msg="not ready, traffic not moved: %s" % "; ".join("%s (%s)" % kv for kv in sorted(reasons.items())),
            not_ready=reasons,
            before=before,
            after=before,
            changed=False,
            **extra,
        )


def run_haproxy(module: AnsibleModule, wanted: Dict[str, Dict[str, Any]], extra: Dict[str, Any]) -> Dict[str, Any]:
    api = RuntimeApi(module.params["socket"])
    backend = module.params["backend"]
    socket_path = module.params["socket"]
    if module.check_mode and wanted and "/" in socket_path and not os.path.exists(socket_path):
        # A load balancer that a check run would have installed is not running yet: report the
        # change the real run makes instead of failing on the missing admin socket.
        return {
            "changed": True,
            "before": {},
            "after": wanted,
            "msg": "HAProxy is not running yet (check mode): %s would be set" % ", ".join(sorted(wanted)),
        }
    try:
        servers = api.servers(backend)
    except HaproxyError as exc:
        module.fail_json(msg=str(exc))
    missing = sorted(set(wanted) - set(servers))
    if missing:
        module.fail_json(
            msg="backend %s has no server %s; it has %s"
            % (backend, ", ".join(missing), ", ".join(sorted(servers)) or "none")
        )
    before = {name: s.to_dict() for name, s in sorted(servers.items())}
    for options in wanted.values():
        options.pop("address", None)
    changes = _changes(before, wanted)
    after = {name: dict(state) for name, state in before.items()}
    for name, delta in changes.items():
        after[name].update(delta)
    if changes:
        guard(module, wanted, after, {name: s.address for name, s in servers.items()}, before, extra)
    result: Dict[str, Any] = {"changed": bool(changes), "before": before, "after": after}
    if changes and not module.check_mode:
        start = time.monotonic()
        try:
            api.apply(backend, changes)
        except HaproxyError as exc:
            module.fail_json(msg=str(exc), before=before)
        result["switch_seconds"] = round(time.monotonic() - start, 6)
        result["after"] = {name: s.to_dict() for name, s in sorted(api.servers(backend).items())}
    if module.params["wait_drained"] and not module.check_mode:
        draining = [
            name
            for name, state in result["after"].items()
            if state["state"] in ("drain", "maint") or state["weight"] == 0
        ]
        remaining = api.wait_drained(backend, draining, module.params["drain_timeout"])
        result["remaining_sessions"] = remaining
        if remaining:
            module.fail_json(
                msg="sessions still open after %ds on %s"
                % (module.params["drain_timeout"], ", ".join("%s (%d)" % kv for kv in sorted(remaining.items()))),
                **result,
            )
        result["after"] = {name: s.to_dict() for name, s in sorted(api.servers(backend).items())}
    return result


_SERVER = re.compile(r"^\s*server\s+(\S+)\s*(.*?);\s*#\s*name=(\S+)\s*$")


def _read_nginx(path: str) -> Dict[str, Dict[str, Any]]:
    servers: Dict[str, Dict[str, Any]] = {}
    if not os.path.exists(path):
        return servers
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            m = _SERVER.match(line)
            if not m:
                continue
            address, options, name = m.groups()
            weight_m = re.search(r"weight=(\d+)", options)
            down = re.search(r"\bdown\b", options) is not None
            servers[name] = {
                "address": address,
                "weight": 0 if down else int(weight_m.group(1)) if weight_m else 1,
                "state": "maint" if down else "ready",
                "sessions": 0,
                "status": "DOWN" if down else "UP",
            }
    return servers


def _write_nginx(backend: str, servers: Dict[str, Dict[str, Any]]) -> str:
    lines = [
        "# Managed by sdd.devops_flow.traffic_switch: weights and states of the %s upstream." % backend,
        "upstream %s {" % backend,
    ]
    for name, s in sorted(servers.items()):
        if not re.match(r"^[A-Za-z0-9_.:\[\]-]+$", str(s["address"])):
            raise ValueError("server %s has an invalid address %r" % (name, s["address"]))
        down = s["state"] != "ready" or int(s["weight"]) == 0
        option = "down" if down else "weight=%d" % int(s["weight"])
        lines.append("    server %s %s; # name=%s" % (s["address"], option, name))
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_nginx(module: AnsibleModule, wanted: Dict[str, Dict[str, Any]], extra: Dict[str, Any]) -> Dict[str, Any]:
    path = module.params["nginx_upstream_file"]
    if not path:
        module.fail_json(msg="lb=nginx needs nginx_upstream_file")
    backend = module.params["backend"]
    before = _read_nginx(path)
    after = {name: dict(s) for name, s in before.items()}
    for name, options in wanted.items():
        if name not in after and "address" not in options:
            module.fail_json(msg="server %s is new to the upstream: give its address" % name)
        entry = after.setdefault(name, {"weight": 1, "state": "ready", "sessions": 0, "status": "UP"})
        entry.update(options)
        if entry["state"] != "ready" or int(entry["weight"]) == 0:
            entry["state"] = "maint" if entry["state"] == "ready" else entry["state"]
    try:
        text = _write_nginx(backend, after)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    old_text = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            old_text = handle.read()
    if text != old_text:
        addresses = {name: str(entry.get("address", "")) for name, entry in after.items()}
        guard(module, wanted, after, addresses, before, extra)
    result: Dict[str, Any] = {"changed": text != old_text, "before": before, "after": after}
    if not result["changed"] or module.check_mode:
        return result
    start = time.monotonic()
    tmp = path + ".sdd-tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    check_rc, _check_out, check_err = module.run_command(
        [module.params["nginx_binary"], "-t", "-c", module.params["nginx_config"]]
    )
    if check_rc != 0:
        if old_text is None:
            os.unlink(path)
        else:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(old_text)
        module.fail_json(
            msg="nginx -t refused the new upstream (the previous file was restored): %s" % check_err.strip(),
            before=before,
        )
    reload_rc, _reload_out, reload_err = module.run_command(
        [module.params["nginx_binary"], "-s", "reload", "-c", module.params["nginx_config"]]
    )
    if reload_rc != 0:
        module.fail_json(msg="nginx reload failed: %s" % reload_err.strip(), before=before, after=after)
    result["switch_seconds"] = round(time.monotonic() - start, 6)
    return result


def _rollback_plan(module: AnsibleModule) -> Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Dict[str, Any]]]:
    """(state read, state after the rollback, wanted servers) for O(rollback)."""
    options = module.params["rollback"]
    path = options["state_file"]
    try:
        state = read_object(path, "deployment state")
    except JsonFileError as exc:
        module.fail_json(msg=str(exc))
    if not state:
        module.fail_json(msg="%s: no deployment state, nothing was deployed there yet" % path)
    live, previous, versions = state.get("live"), state.get("previous"), state.get("versions")
    if {live, previous} != {"blue", "green"} or not isinstance(versions, dict) or previous not in versions:
        module.fail_json(
            msg="%s records no previous release to return to (live: %s %s, previous: %s)"
            % (path, live, (versions or {}).get(live, "none") if isinstance(versions, dict) else "none", previous),
            state_before=state,
        )
    hosts = [str(host) for host in options["hosts"] or []]
    if not hosts:
        module.fail_json(msg="rollback.hosts is empty: give the application hosts", state_before=state)
    ports = {"blue": options["blue_port"], "green": options["green_port"]}
    addresses = options["addresses"] or {}
    wanted: Dict[str, Dict[str, Any]] = {}
    for host in hosts:
        # as the deploy role's switch: the live colour drains (it keeps running for a roll forward)
        servers = {live: {"state": "drain"}, previous: {"weight": 100, "state": "ready"}}
        for colour, options_of in servers.items():
            if module.params["lb"] == "nginx":
                options_of["address"] = "%s:%d" % (addresses.get(host) or host, ports[colour])
            wanted["%s_%s" % (host, colour)] = options_of
    return state, dict(state, live=previous, previous=live), wanted


def _diff_text(state: Dict[str, Dict[str, Any]]) -> str:
    return "".join(
        "%s: state=%s weight=%s\n" % (name, s.get("state"), s.get("weight")) for name, s in sorted(state.items())
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "backend": {"type": "str", "required": True},
            "servers": {"type": "dict"},
            "lb": {"type": "str", "choices": ["haproxy", "nginx"], "default": "haproxy"},
            "socket": {"type": "str", "default": "/run/haproxy/admin.sock"},
            "wait_drained": {"type": "bool", "default": False},
            "drain_timeout": {"type": "int", "default": 60},
            "nginx_upstream_file": {"type": "path"},
            "nginx_config": {"type": "path", "default": "/etc/nginx/nginx.conf"},
            "nginx_binary": {"type": "path", "default": "/usr/sbin/nginx"},
            "ready_path": {"type": "str"},
            "ready_timeout": {"type": "float", "default": 2},
            "rollback": {
                "type": "dict",
                "options": {
                    "state_file": {"type": "path", "required": True},
                    "hosts": {"type": "list", "elements": "str", "required": True},
                    "addresses": {"type": "dict", "default": {}},
                    "blue_port": {"type": "int", "default": 8080},
                    "green_port": {"type": "int", "default": 8081},
                },
            },
        },
        mutually_exclusive=[("servers", "rollback")],
        supports_check_mode=True,
    )
    state: Optional[Dict[str, Any]] = None
    extra: Dict[str, Any] = {}
    if module.params["rollback"]:
        state, new_state, wanted = _rollback_plan(module)
        extra["state_before"] = state
    else:
        wanted = _wanted(module)
    run = run_haproxy if module.params["lb"] == "haproxy" else run_nginx
    result = run(module, wanted, extra)
    if state is not None:
        # the traffic is on the previous colour: record it (the state is written after the switch, so a
        # failure between the two leaves a state that a second rollback puts right)
        result.update(state_before=state, state=new_state, changed=True)
        if not module.check_mode:
            try:
                write_atomic(module.params["rollback"]["state_file"], dump(new_state), 0o644)
            except JsonFileError as exc:
                module.fail_json(msg="traffic moved, but the state was not recorded: %s" % exc, **result)
    if module._diff:
        result["diff"] = {
            "before": _diff_text(result["before"]),
            "after": _diff_text(result["after"]),
            "before_header": "%s (before)" % module.params["backend"],
            "after_header": "%s (after)" % module.params["backend"],
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
