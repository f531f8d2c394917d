#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_state
short_description: Read or write the deployment state of a service (live colour, previous colour, releases)
version_added: "0.2.0"
description:
  - The deploy role keeps, on the load balancer host, one JSON file per service and environment that says which
    colour takes the traffic, which one held it before, and which release each colour runs.
    The playbook C(sdd.devops_flow.rollback) reads it to know where to return.
  - Without O(content) the module only reads the file. With O(content) it writes the file when its content
    differs, in one call (a temporary file in the same folder, then a rename), so a reader never sees half a
    file and a crash leaves the previous state.
  - Content is compared as data, not as text, so rewriting the same state reports no change.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  path:
    description:
      - The state file. Its folder is created when missing (O(content) only).
    type: path
    required: true
  content:
    description:
      - The state to write, a dict (for the deploy role C(live), C(previous) and C(versions)).
      - Omit it to read the file.
    type: dict
  default:
    description:
      - What RV(state) is when the file does not exist yet.
    type: dict
    default: {}
  mode:
    description:
      - Permissions of a state file that is created (an existing file keeps its own).
    type: str
    default: "0644"
attributes:
  check_mode:
    support: full
    description: Reads the file and reports the change without writing.
  diff_mode:
    support: full
    description: Shows the state before and after as JSON.
seealso:
  - module: sdd.devops_flow.traffic_switch
"""

EXAMPLES = r"""
- name: Read which colour is live
  sdd.devops_flow.deploy_state:
    path: /var/lib/sdd-devops-flow/order-intake-api-prod.json
    default: {live: blue, previous: null, versions: {}}
  register: deploy_state_file

- name: Record a switch to green
  sdd.devops_flow.deploy_state:
    path: /var/lib/sdd-devops-flow/order-intake-api-prod.json
    content:
      live: green
      previous: blue
      versions: {blue: 1.4.0, green: 1.5.0}
"""

RETURN = r"""
state:
  description: The state after the task (the file's content, O(content) when written, O(default) when there is no file).
  returned: always
  type: dict
  sample: {"live": "green", "previous": "blue", "versions": {"blue": "1.4.0", "green": "1.5.0"}}
exists:
  description: Whether the file existed before the task.
  returned: always
  type: bool
  sample: true
"""

import os
from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.jsonfile import (
    JsonFileError,
    dump,
    read_object,
    write_atomic,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "content": {"type": "dict"},
            "default": {"type": "dict", "default": {}},
            "mode": {"type": "str", "default": "0644"},
        },
        supports_check_mode=True,
    )
    path, content = module.params["path"], module.params["content"]
    try:
        current = read_object(path, "deployment state")
    except JsonFileError as exc:
        module.fail_json(msg=str(exc))
    # an empty file is no state yet
    before = current or module.params["default"]
    # compared as the text the file would hold: key order and spacing do not count, 1 and "1" do
    changed = content is not None and (not current or dump(current) != dump(content))
    result: Dict[str, Any] = {"changed": changed, "exists": current is not None, "state": before}
    if content is not None:
        result["state"] = content
    if module._diff and content is not None:
        result["diff"] = {
            "before": dump(current) if current else "",
            "after": dump(content),
            "before_header": path,
            "after_header": path,
        }
    if changed and not module.check_mode:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            write_atomic(path, dump(content), int(module.params["mode"], 8))
        except (OSError, JsonFileError, ValueError) as exc:
            module.fail_json(msg="cannot write the deployment state: %s" % exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
