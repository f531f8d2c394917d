#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: write_files
short_description: Write several text files in one call, each only when its content or mode differs
version_added: "0.2.0"
description:
  - Writes a set of text files on the target in one module call, where a loop of
    M(ansible.builtin.copy) or M(ansible.builtin.template) tasks costs two or more remote calls per file.
    The deploy role writes the deployment scripts of REQ 9.5.3 with it, rendered on the controller by
    the filter P(sdd.devops_flow.script_files#filter) from the same templates as
    C(devops-flow generate-deployment-scripts).
  - A file is written only when its content or its mode differs, through a temporary file in the same
    folder and a rename, so a reader (a script being run) never sees half a file and a failure leaves the
    previous file whole.
  - The folders must exist; a file that cannot be written fails the task with the path and the reason,
    after the files before it were written.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  files:
    description:
      - The files, as a mapping of absolute path to text content (UTF-8).
      - Contents are shown in diff mode; use C(no_log) for files that hold secrets.
    type: dict
    required: true
  mode:
    description:
      - Permissions of every file, as an octal string.
    type: str
    default: "0644"
attributes:
  check_mode:
    support: full
    description: Reads the files and reports which would change, without writing.
  diff_mode:
    support: full
    description: Shows each changed file before and after (and a mode change as a header).
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Two scripts, executable
  sdd.devops_flow.write_files:
    files:
      /opt/order-intake-api/bin/hello.sh: |
        #!/bin/sh
        echo hello
      /opt/order-intake-api/bin/bye.sh: |
        #!/bin/sh
        echo bye
    mode: "0755"

- name: The deployment scripts of the documents, rendered on the controller
  sdd.devops_flow.write_files:
    files: "{{ deploy_script | sdd.devops_flow.script_files('/opt/order-intake-api/bin') }}"
    mode: "0755"
"""

RETURN = r"""
written:
  description: The paths whose content or mode changed (would change in check mode), in the order given.
  returned: always
  type: list
  elements: str
  sample: ["/opt/order-intake-api/bin/deploy.sh"]
"""

import os
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.jsonfile import JsonFileError, write_atomic


def _current(path: str) -> Tuple[Optional[bytes], Optional[int]]:
    """(bytes, permission bits) of an existing file, (None, None) when there is none."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        return data, os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None, None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "dict", "required": True},
            "mode": {"type": "str", "default": "0644"},
        },
        supports_check_mode=True,
    )
    try:
        mode = int(module.params["mode"], 8)
    except ValueError:
        module.fail_json(msg="mode must be an octal string such as 0755, got %r" % module.params["mode"])
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg="mode must be between 0000 and 7777, got %r" % module.params["mode"])
    files: Dict[str, Any] = module.params["files"]
    for path, content in files.items():
        if not os.path.isabs(path):
            module.fail_json(msg="%s: expected an absolute path" % path)
        if not isinstance(content, str):
            module.fail_json(msg="%s: expected text content, got %s" % (path, type(content).__name__))
    written: List[str] = []
    diffs: List[Dict[str, str]] = []
    for path, content in files.items():
        data = content.encode("utf-8")
        try:
            before, before_mode = _current(path)
        except OSError as exc:
            module.fail_json(msg="cannot read %s: %s" % (path, exc), written=written)
        if before == data and before_mode == mode:
            continue
        written.append(path)
        if module._diff:
            header = path if before_mode in (None, mode) else "%s (mode %04o -> %04o)" % (path, before_mode, mode)
            diffs.append(
                {
                    "before": before.decode("utf-8", "replace") if before is not None else "",
                    "after": content,
                    "before_header": header,
                    "after_header": header,
                }
            )
        if module.check_mode:
            continue
        try:
            if before == data:
                os.chmod(path, mode)
            else:
                write_atomic(path, content, mode, keep_mode=False)
        except (OSError, JsonFileError) as exc:
            message = str(exc) if isinstance(exc, JsonFileError) else "cannot write %s: %s" % (path, exc)
            module.fail_json(msg=message, written=written[:-1], changed=len(written) > 1)
    result: Dict[str, Any] = {"changed": bool(written), "written": written}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
