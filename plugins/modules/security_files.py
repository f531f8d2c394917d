#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_files
short_description: Content, owner, group and mode of the files and folders of a hardening baseline, with evidence
version_added: "0.1.0"
description:
  - Checks every file or folder of O(files) and sets its owner, group and mode where they differ, and the content
    of files that are given one (a login banner), in one module run (a loop of M(ansible.builtin.stat),
    M(ansible.builtin.template) and M(ansible.builtin.file) takes several runs per path).
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
      content:
        description:
          - What the file must hold (for example a login banner). It is written (a temporary file in the same
            folder, then a rename) when it differs or the file is missing, with O(files[].mode), V(0644) by
            default for a new file. Without it, a missing path is not-applicable and is not created.
        type: str
attributes:
  check_mode:
    support: full
    description: Reports which paths would change (their status is then fail) without changing them.
  diff_mode:
    support: full
    description: Shows owner, group and mode of the paths that change, before and after (not their content).
"""

EXAMPLES = r"""
- name: Login banner, account files and cron folders of the baseline
  sdd.devops_flow.security_files:
    files:
      - path: /etc/issue.net
        content: "Authorised access only.\n"
        mode: "0644"
        owner: root
        group: root
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
  contains:
    path:
      description: The path.
      type: str
    exists:
      description: Whether the path existed before the run.
      type: bool
    content:
      description: Present (true) for the entries that have a content.
      type: bool
    expected:
      description: The mode, owner and group wanted (C(-) where not checked).
      type: str
    before:
      description: Mode, owner and group found (null when the path did not exist).
      type: str
    after:
      description: Mode, owner and group after the run.
      type: str
    status:
      description: pass, fail or not-applicable.
      type: str
    evidence:
      description: The state reached, in words.
      type: str
  sample:
    - path: /etc/crontab
      exists: true
      expected: "0600 root:root"
      before: "0644 root:root"
      after: "0600 root:root"
      status: pass
      evidence: "0600 root:root"
    - path: /etc/issue.net
      exists: true
      content: true
      expected: "0644 root:root"
      before: "0644 root:root"
      after: "0644 root:root"
      status: pass
      evidence: "content in place, 0644 root:root"
"""

import grp
import os
import pwd
import stat
import tempfile
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


def read_bytes(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def write_atomic(module: AnsibleModule, path: str, data: bytes, mode: int) -> None:
    """Replace ``path``: a temporary file in the same folder, then a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, tmp = tempfile.mkstemp(prefix=".sdd-files-", dir=folder)
    except OSError as exc:
        module.fail_json(msg="cannot write %s: %s" % (path, exc.strerror or exc))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        module.fail_json(msg="cannot write %s: %s" % (path, exc.strerror or exc))


def handle_entry(module: AnsibleModule, entry: Dict[str, Any]) -> Tuple[Dict[str, Any], bool, str, str]:
    """Check (and fix) one path: its result, whether it changed, and its diff lines before and after."""
    path = entry["path"]
    mode_text = entry.get("mode")
    if mode_text:
        try:
            int(mode_text, 8)
        except ValueError:
            module.fail_json(msg="mode of %s must be octal such as 0600, not %r" % (path, mode_text))
    content = entry.get("content")
    expected = "%s %s:%s" % (mode_text or "-", entry.get("owner") or "-", entry.get("group") or "-")
    found = describe(path)
    result: Dict[str, Any] = {"path": path, "exists": found is not None, "expected": expected}
    result["before"] = shown(found) if found else None
    if content is not None:
        result["content"] = True
    if found is None and content is None:
        result.update(after=None, status="not-applicable", evidence="%s does not exist here" % path)
        return result, False, "", ""
    data = content.encode("utf-8") if content is not None else None
    rewrite = data is not None and read_bytes(path) != data
    problems = differences(entry, found) if found else []
    if rewrite:
        problems.insert(0, "content differs" if found else "missing")
    if not problems:
        result.update(after=result["before"], status="pass", evidence=shown(found) if found else "")
        if content is not None:
            result["evidence"] = "content in place, %s" % result["evidence"]
        return result, False, "", ""
    planned = (
        "%04o" % int(mode_text, 8) if mode_text else (found[0] if found else "0644"),
        entry.get("owner") or (found[1] if found else "-"),
        entry.get("group") or (found[2] if found else "-"),
    )
    before_line = "%s %s\n" % (path, result["before"] or "(missing)")
    if module.check_mode:
        result.update(after=None, status="fail", evidence="%s; would be fixed" % "; ".join(problems))
        return result, True, before_line, "%s %s\n" % (path, shown(planned))
    if rewrite and data is not None:
        write_atomic(module, path, data, int(planned[0], 8))
    file_args = {
        "path": path,
        "mode": mode_text,
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
        result.update(
            status="pass", evidence=("content in place, %s" if content is not None else "%s") % result["after"]
        )
    return result, True, before_line, "%s %s\n" % (path, result["after"])


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
                    "content": {"type": "str"},
                },
            },
        },
        supports_check_mode=True,
    )
    results: List[Dict[str, Any]] = []
    changed = False
    before_text, after_text = [], []
    for entry in module.params["files"]:
        result, entry_changed, before_line, after_line = handle_entry(module, entry)
        results.append(result)
        if entry_changed:
            changed = True
            before_text.append(before_line)
            after_text.append(after_line)
    output: Dict[str, Any] = {"changed": changed, "results": results}
    if changed and module._diff:
        output["diff"] = {"before": "".join(before_text), "after": "".join(after_text)}
    module.exit_json(**output)


if __name__ == "__main__":
    main()
