#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_sysctl
short_description: Kernel parameters of a hardening baseline, set now and kept for the next boot
version_added: "0.1.0"
description:
  - Writes the settings to one file of C(/etc/sysctl.d) (read at boot) and sets the running kernel's values
    through C(/proc/sys), only where they differ.
  - Returns one result per setting (pass, fail or not-applicable, with the value found), the evidence of a
    compliance report. The evidence describes the state reached, not the change, so a report built from it says
    the same on every run; RV(results[].before) holds the value found before.
  - A parameter this kernel does not have is not-applicable and left out of the file (C(sysctl --system) would
    complain about it at boot). A value the kernel refuses because C(/proc/sys) is read-only (a container) is
    not-applicable too - it belongs to the container host.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  settings:
    description:
      - Parameter name (C(net.ipv4.ip_forward)) to value.
    type: dict
    required: true
  path:
    description:
      - The file that keeps the settings for the next boot (its folder is created when missing). Not written when
        empty.
    type: path
    default: /etc/sysctl.d/60-sdd-security.conf
  apply:
    description:
      - Set the running kernel's values too (else only the file is written and differing values fail).
    type: bool
    default: true
  header:
    description:
      - Comment lines at the top of the file.
    type: str
    default: Managed by sdd.devops_flow.security
attributes:
  check_mode:
    support: full
    description: Reports which values and which file lines would change.
  diff_mode:
    support: full
    description: Shows the file before and after.
"""

EXAMPLES = r"""
- name: Network baseline of a host that runs no containers
  sdd.devops_flow.security_sysctl:
    settings:
      net.ipv4.ip_forward: 0
      net.ipv4.conf.all.accept_redirects: 0
      net.ipv4.tcp_syncookies: 1
  register: sysctl_baseline
"""

RETURN = r"""
results:
  description: One entry per setting.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The parameter.
      type: str
    expected:
      description: The value wanted, as the kernel prints it.
      type: str
    before:
      description: The value found (null when this kernel has no such parameter).
      type: str
    after:
      description: The value after the run (the value found in check mode).
      type: str
    status:
      description: pass, fail or not-applicable.
      type: str
    evidence:
      description: The state reached, in words.
      type: str
  sample:
    - key: net.ipv4.ip_forward
      expected: "0"
      before: "1"
      after: "0"
      status: pass
      evidence: net.ipv4.ip_forward = 0
path:
  description: The file written (empty when none).
  returned: always
  type: str
  sample: /etc/sysctl.d/60-sdd-security.conf
"""

import errno
import os
import re
import tempfile
from typing import Any, Dict, List, Optional

from ansible.module_utils.basic import AnsibleModule

#: Where the kernel shows its parameters (the unit tests point it at a folder of their own).
PROC_SYS = "/proc/sys"

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/*]*$")


def normalise(value: Any) -> str:
    """A value as the kernel prints it: words separated by one space (booleans as 1 / 0)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return " ".join(str(value).split())


def proc_path(key: str) -> str:
    return os.path.join(PROC_SYS, *key.split("."))


def read_value(key: str) -> Optional[str]:
    try:
        with open(proc_path(key), encoding="utf-8") as handle:
            return normalise(handle.read())
    except OSError:
        return None


def file_text(settings: Dict[str, str], header: str) -> str:
    lines = ["# %s" % line if line else "#" for line in header.splitlines()]
    lines += ["%s = %s" % (key, settings[key]) for key in sorted(settings)]
    return "\n".join(lines) + "\n"


def check(settings: Dict[str, str], apply: bool, check_mode: bool) -> List[Dict[str, Any]]:
    """Compare (and set, unless check mode) every setting; one result each."""
    results = []
    for key in sorted(settings):
        wanted = settings[key]
        before = read_value(key)
        entry: Dict[str, Any] = {"key": key, "expected": wanted, "before": before, "after": before}
        if before is None:
            entry.update(status="not-applicable", evidence="this kernel has no %s" % key, changed=False)
        elif before == wanted:
            entry.update(status="pass", evidence="%s = %s" % (key, before), changed=False)
        elif not apply:
            entry.update(status="fail", evidence="%s = %s, expected %s (not applied)" % (key, before, wanted))
            entry["changed"] = False
        elif check_mode:
            entry.update(status="fail", evidence="%s = %s, would be set to %s" % (key, before, wanted), changed=True)
        else:
            entry.update(_write(key, before, wanted))
        results.append(entry)
    return results


def _write(key: str, before: str, wanted: str) -> Dict[str, Any]:
    try:
        with open(proc_path(key), "w", encoding="utf-8") as handle:
            handle.write(wanted + "\n")
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return {
                "status": "not-applicable",
                "evidence": "%s = %s; the kernel refused %s (%s): it is set on the container host"
                % (key, before, wanted, os.strerror(exc.errno)),
                "changed": False,
            }
        return {
            "status": "fail",
            "evidence": "%s = %s; setting %s failed: %s" % (key, before, wanted, exc.strerror or exc),
            "changed": False,
        }
    after = read_value(key)
    if after == wanted:
        return {
            "status": "pass",
            "after": after,
            "evidence": "%s = %s" % (key, after),
            "changed": True,
        }
    return {
        "status": "fail",
        "after": after,
        "evidence": "%s = %s after setting %s (the kernel did not keep it)" % (key, after, wanted),
        "changed": True,
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "path": {"type": "path", "default": "/etc/sysctl.d/60-sdd-security.conf"},
            "apply": {"type": "bool", "default": True},
            "header": {"type": "str", "default": "Managed by sdd.devops_flow.security"},
        },
        supports_check_mode=True,
    )
    wanted: Dict[str, str] = {}
    for key, value in (module.params["settings"] or {}).items():
        if not _NAME.match(str(key)) or ".." in str(key):
            module.fail_json(msg="%r is not a kernel parameter name such as net.ipv4.ip_forward" % key)
        wanted[str(key)] = normalise(value)
    results = check(wanted, module.params["apply"], module.check_mode)
    flags = [r.pop("changed") for r in results]  # every entry loses its flag, not only up to the first True
    changed = any(flags)
    path = module.params["path"] or ""
    result: Dict[str, Any] = {"results": results, "path": path}
    if path:
        kept = {r["key"]: r["expected"] for r in results if r["before"] is not None}
        text = file_text(kept, module.params["header"])
        try:
            with open(path, encoding="utf-8") as handle:
                before_text: Optional[str] = handle.read()
        except OSError:
            before_text = None
        if before_text != text:
            changed = True
            if module._diff:
                result["diff"] = {
                    "before": before_text or "",
                    "after": text,
                    "before_header": path,
                    "after_header": path,
                }
            if not module.check_mode:
                folder = os.path.dirname(os.path.abspath(path))
                os.makedirs(folder, 0o755, exist_ok=True)
                handle_no, tmp = tempfile.mkstemp(prefix=".sdd-sysctl-", dir=folder)
                with os.fdopen(handle_no, "w", encoding="utf-8") as out:
                    out.write(text)
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)
    result["changed"] = changed
    module.exit_json(**result)


if __name__ == "__main__":
    main()
