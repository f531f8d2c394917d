#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_scan
short_description: Scan generated artifacts with the collection's validators, checkov, hadolint and ShellCheck
version_added: "0.1.0"
description:
  - Runs C(devops-flow validate DIR --format json) on each folder of O(paths) - it finds the kind of every file
    and runs the validators of the collection on it - checkov on Terraform, CloudFormation, Kubernetes,
    Dockerfiles and pipelines, hadolint on Dockerfiles, ShellCheck and C(bash -n) on scripts, and each
    ecosystem's own tool.
  - Gives every finding a severity of the 9.5.6 scale (low, medium, high, critical) and fails when one reaches
    O(threshold), the lowest severity that fails a scan (the model's C(security.image_scanning.threshold);
    V(high) for "0 critical, 0 high").
  - A file that could not be checked (a tool missing or failing, a kind no validator knows) is a critical
    finding, so a scan never passes unchecked. A failed checkov check gets O(checkov_severity); other validator
    errors are high, warnings medium, notes low; O(severity_overrides) sets the severity of single codes.
  - Runs where the tools are, normally the controller (delegated to C(localhost)).
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  paths:
    description:
      - Folders of generated artifacts.
    type: list
    elements: path
    required: true
  command:
    description:
      - The program that validates a folder, as a list, for example the Python of the controller and the
        collection's C(bin/devops-flow). A first element without a slash is looked up on E(PATH).
    type: list
    elements: str
    default: [devops-flow]
  threshold:
    description:
      - The lowest severity that fails the scan.
    type: str
    choices: [low, medium, high, critical]
    default: high
  checkov_severity:
    description:
      - Severity of a failed checkov check.
    type: str
    choices: [low, medium, high, critical]
    default: high
  severity_overrides:
    description:
      - Finding code (C(CKV_DOCKER_2), C(DL3008), C(SC2086)) to severity.
    type: dict
    default: {}
  fail:
    description:
      - Fail when the scan fails. With V(false) the result says so in RV(passed) and the caller decides.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The scan only reads, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
requirements:
  - the devops-flow command of this collection and the validators it calls (checkov, hadolint, shellcheck and
    the others C(devops-flow validate) names when they are missing)
seealso:
  - module: sdd.devops_flow.compliance_report
"""

EXAMPLES = r"""
- name: Scan what devops-flow generated; stop at a high or critical finding
  sdd.devops_flow.security_scan:
    paths:
      - "{{ playbook_dir }}/generated"
    threshold: high
  delegate_to: localhost
  run_once: true

- name: Scan with the collection's own command, keep the result for the report, decide later
  sdd.devops_flow.security_scan:
    paths: [generated/terraform, generated/container]
    command:
      - "{{ ansible_playbook_python }}"
      - "{{ role_path }}/../../bin/devops-flow"
    threshold: critical
    severity_overrides:
      CKV_DOCKER_2: low
    fail: false
  delegate_to: localhost
  register: scan
"""

RETURN = r"""
passed:
  description: No finding reached the threshold.
  returned: success
  type: bool
  sample: true
threshold:
  description: The threshold used.
  returned: success
  type: str
  sample: high
counts:
  description: Findings per severity.
  returned: success
  type: dict
  sample: {"low": 2, "medium": 0, "high": 0, "critical": 0}
blocking:
  description: Number of findings at or above the threshold.
  returned: success
  type: int
  sample: 0
findings:
  description: Every finding, with its 9.5.6 severity and whether it blocks.
  returned: success
  type: list
  elements: dict
  sample:
    - path: generated/container/Dockerfile
      file: Dockerfile
      line: 1
      tool: hadolint
      code: DL3007
      message: DL3007 Using latest is prone to errors
      validator_severity: error
      severity: high
      blocking: true
files:
  description: Per folder, each file checked and its kind.
  returned: success
  type: dict
  sample: {"generated": {"Dockerfile": "dockerfile", "scripts/deploy.sh": "shell"}}
unrecognised:
  description: Per folder, files whose kind was not recognised (not checked).
  returned: success
  type: dict
  sample: {"generated": ["README.txt"]}
summary:
  description: One line for people.
  returned: success
  type: str
  sample: "3 file(s) in 1 folder(s): 0 critical, 0 high, 0 medium, 2 low; threshold high (a high or worse
    finding fails)"
"""

import os
from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.security_scan import (
    ScanError,
    failure_message,
    grade,
    parse_validate_output,
    validate_argv,
)

LEVELS = ["low", "medium", "high", "critical"]

ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    "paths": {"type": "list", "elements": "path", "required": True},
    "command": {"type": "list", "elements": "str", "default": ["devops-flow"]},
    "threshold": {"type": "str", "choices": LEVELS, "default": "high"},
    "checkov_severity": {"type": "str", "choices": LEVELS, "default": "high"},
    "severity_overrides": {"type": "dict", "default": {}},
    "fail": {"type": "bool", "default": True},
}


def resolve_command(module: AnsibleModule, command: List[str]) -> List[str]:
    """The command with its program found on PATH when it is a bare name."""
    if not command:
        module.fail_json(msg="command is empty; expected the devops-flow program, for example [devops-flow]")
    program = command[0]
    if "/" not in program:
        found = module.get_bin_path(program)
        if not found:
            module.fail_json(
                msg="%s is not on PATH; install the collection's requirements or give command, for example "
                "[python3, <collection>/bin/devops-flow]" % program
            )
        program = found
    return [program, *command[1:]]


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    command = resolve_command(module, [str(c) for c in params["command"]])
    outputs = []
    try:
        for folder in params["paths"]:
            if not os.path.isdir(folder):
                raise ScanError("%s is not a folder; expected a folder of generated artifacts" % folder)
            rc, out, err = module.run_command(validate_argv(command, folder))
            outputs.append({"path": folder, "output": parse_validate_output(folder, rc, out, err)})
        result: Dict[str, Any] = grade(
            outputs,
            params["threshold"],
            {str(k): str(v) for k, v in (params["severity_overrides"] or {}).items()},
            params["checkov_severity"],
        )
    except ScanError as exc:
        module.fail_json(msg=str(exc))
    result["changed"] = False
    if params["fail"] and not result["passed"]:
        module.fail_json(msg=failure_message(result), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
