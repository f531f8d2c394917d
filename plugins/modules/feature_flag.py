#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: feature_flag
short_description: Turn a feature flag of a running service on or off without a redeploy
version_added: "0.1.0"
description:
  - Sets one flag in the service's flag file (a JSON object of flag name to value), which the service reads at
    run time (REQ section 7.2 lists the flags and their defaults).
  - The file is replaced atomically (a temporary file in the same folder, then a rename), so the service never
    reads a half-written file.
  - Every change is appended to a change log (JSON lines with the time, the flag, the old and the new value and
    the reason), which O(log) names.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  path:
    description:
      - The flag file. Created when missing.
    type: path
    required: true
  name:
    description:
      - The flag.
    type: str
    required: true
  state:
    description:
      - V(enabled) sets the flag to C(true), V(disabled) to C(false), V(absent) removes it (the service then uses
        its default), V(present) sets it to O(value).
    type: str
    choices: [enabled, disabled, absent, present]
    default: enabled
  value:
    description:
      - The value for O(state=present) (a string, number or boolean).
    type: raw
  log:
    description:
      - The change log file. No log is written when omitted.
    type: path
  reason:
    description:
      - Why the flag changes, written to the change log.
    type: str
    default: ""
  mode:
    description:
      - Permissions of a flag file that is created.
    type: str
    default: "0644"
attributes:
  check_mode:
    support: full
    description: Reports the change without writing.
  diff_mode:
    support: full
    description: Shows the flag file before and after.
"""

EXAMPLES = r"""
- name: Turn on partner bulk submit for the order service
  sdd.devops_flow.feature_flag:
    path: /opt/order-intake-api/shared/flags.json
    name: PARTNER_BULK_SUBMIT
    state: enabled
    log: /opt/order-intake-api/shared/flags.log
    reason: load test passed

- name: Back to the documented default
  sdd.devops_flow.feature_flag:
    path: /opt/order-intake-api/shared/flags.json
    name: PARTNER_BULK_SUBMIT
    state: absent
"""

RETURN = r"""
flags:
  description: All flags after the change.
  returned: always
  type: dict
  sample: {"PARTNER_BULK_SUBMIT": true, "STRICT_PRICE_REVALIDATION": true}
previous:
  description: The flag's value before the change (null when it was not set).
  returned: always
  type: raw
  sample: false
"""

import datetime
import json
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
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["enabled", "disabled", "absent", "present"], "default": "enabled"},
            "value": {"type": "raw"},
            "log": {"type": "path"},
            "reason": {"type": "str", "default": ""},
            "mode": {"type": "str", "default": "0644"},
        },
        required_if=[("state", "present", ("value",))],
        supports_check_mode=True,
    )
    path, name, state = module.params["path"], module.params["name"], module.params["state"]
    try:
        flags = read_object(path, "flag file") or {}
    except JsonFileError as exc:
        module.fail_json(msg=str(exc))
    previous = flags.get(name)
    wanted = dict(flags)
    if state == "absent":
        wanted.pop(name, None)
    elif state == "present":
        value = module.params["value"]
        if isinstance(value, (dict, list)):
            module.fail_json(msg="value must be a string, number or boolean")
        wanted[name] = value
    else:
        wanted[name] = state == "enabled"
    before, after = dump(flags), dump(wanted)
    changed = before != after or not os.path.exists(path)
    result: Dict[str, Any] = {"changed": changed, "flags": wanted, "previous": previous}
    if module._diff:
        result["diff"] = {
            "before": before if os.path.exists(path) else "",
            "after": after,
            "before_header": path,
            "after_header": path,
        }
    if changed and not module.check_mode:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            module.fail_json(msg="the folder of the flag file %s does not exist" % path)
        try:
            write_atomic(path, after, int(module.params["mode"], 8))
        except (JsonFileError, ValueError) as exc:
            module.fail_json(msg=str(exc))
        if module.params["log"]:
            entry = {
                "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "flag": name,
                "old": previous,
                "new": wanted.get(name),
                "reason": module.params["reason"],
            }
            with open(module.params["log"], "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
