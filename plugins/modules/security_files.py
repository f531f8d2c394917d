#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_files
short_description: Owner, group and mode of the files and folders of a hardening baseline, with the evidence
version_added: "0.1.0"
description:
  - Checks every file or folder of O(files) and sets its owner, group and mode where they differ, in one module
    run (a loop of M(ansible.builtin.stat) and M(ansible.builtin.file) takes two runs per path).
  - Returns one result per path (pass, fail or not-applicable, with what was found), the evidence of a
    compliance report. The evidence describes the state reached (RV(results[].before) the state found), so a
    report built from it says the same on every run. A path that does not exist is not-applicable and is not
    created.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  files:
    description:
      - The paths and what they must be.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - A file or a folder (symbolic links are followed).
        type: path
        required: true
      mode:
        description:
          - Octal mode such as V(0600). Not checked when omitted.
        type: str
      owner:
        description:
          - User name of the owner. Not checked when omitted.
        type: str
      group:
        description:
          - Group name. Not checked when omitted.
        type: str
attributes:
  check_mode:
    support: full
    description: Reports which paths would change (their status is then fail) without changing them.
  diff_mode:
    support: full
    description: Shows owner, group and mode of the paths that change, before and after.
"""

EXAMPLES = r"""
- name: Account files and cron folders of the baseline
  sdd.devops_flow.security_files:
    files:
      - {path: /etc/shadow, mode: "0640", owner: root, group: shadow}
      - {path: /etc/crontab, mode: "0600", owner: root, group: root}
      - {path: /etc/cron.d, mode: "0700", owner: root, group: root}
  register: permissions
"""

RETURN = r"""
results:
  description: One entry per path.
  returned: always
  type: list
  elements: dict
  sample:
    - path: /etc/crontab
      exists: true
      expected: "0600 root:root"
      before: "0644 root:root"
      after: "0600 root:root"
      status: pass
      evidence: "0600 root:root"
"""

import grp
import os
import pwd
import stat
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule


def describe(path: str) -> Optional[Tuple[str, str, str]]:
    """Mode (four octal digits), owner and group of a path; None when it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return "%04o" % stat.S_IMODE(info.st_mode), owner, group


def shown(found: Tuple[str, str, str]) -> str:
    return "%s %s:%s" % found


def differences(entry: Dict[str, Any], found: Tuple[str, str, str]) -> List[str]:
    """What differs from the wanted mode, owner and group, in words."""
    mode, owner, group = found
    problems = []
    if entry.get("mode") and int(mode, 8) != int(entry["mode"], 8):
        problems.append("mode %s (expected %s)" % (mode, entry["mode"]))
    if entry.get("owner") and owner != entry["owner"]:
        problems.append("owner %s (expected %s)" % (owner, entry["owner"]))
    if entry.get("group") and group != entry["group"]:
        problems.append("group %s (expected %s)" % (group, entry["group"]))
    return problems


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "mode": {"type": "str"},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                },
            },
        },
        supports_check_mode=True,
    )
    results: List[Dict[str, Any]] = []
    changed = False
    before_text, after_text = [], []
    for entry in module.params["files"]:
        path = entry["path"]
        if entry.get("mode"):
            try:
                int(entry["mode"], 8)
            except ValueError:
                module.fail_json(msg="mode of %s must be octal such as 0600, not %r" % (path, entry["mode"]))
        expected = "%s %s:%s" % (entry.get("mode") or "-", entry.get("owner") or "-", entry.get("group") or "-")
        found = describe(path)
        result: Dict[str, Any] = {"path": path, "exists": found is not None, "expected": expected}
        if found is None:
            result.update(before=None, after=None, status="not-applicable", evidence="%s does not exist here" % path)
            results.append(result)
            continue
        result.update(before=shown(found), after=shown(found))
        problems = differences(entry, found)
        if not problems:
            result.update(status="pass", evidence=shown(found))
            results.append(result)
            continue
        changed = True
        if module.check_mode:
            result.update(status="fail", evidence="%s; would be fixed" % "; ".join(problems))
        else:
            file_args = {
                "path": path,
                "mode": entry.get("mode"),
                "owner": entry.get("owner"),
                "group": entry.get("group"),
                "attributes": None,
                "secontext": [None, None, None],
            }
            module.set_fs_attributes_if_different(file_args, False)
            now = describe(path)
            result["after"] = shown(now) if now else None
            left = differences(entry, now) if now else ["it disappeared"]
            if left:
                result.update(status="fail", evidence="still %s after setting it" % "; ".join(left))
            else:
                result.update(status="pass", evidence=result["after"])
        before_text.append("%s %s\n" % (path, result["before"]))
        planned = (
            "%04o" % int(entry["mode"], 8) if entry.get("mode") else found[0],
            entry.get("owner") or found[1],
            entry.get("group") or found[2],
        )
        after_text.append("%s %s\n" % (path, shown(planned) if module.check_mode else result["after"]))
        results.append(result)
    output: Dict[str, Any] = {"changed": changed, "results": results}
    if changed and module._diff:
        output["diff"] = {"before": "".join(before_text), "after": "".join(after_text)}
    module.exit_json(**output)


if __name__ == "__main__":
    main()
