#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compliance_report
short_description: Write the compliance report of a host (JSON and Markdown) from the evidence of the security role
version_added: "0.1.0"
description:
  - Judges the evidence the P(sdd.devops_flow.security#role) role collected on one host and writes one report as
    JSON and as Markdown - every row of 9.5.6 Security Requirements and every hardening control, each with pass,
    fail or not-applicable and the evidence in words.
  - The 9.5.6 rows come from the model (O(security), with O(sources) naming the document line of each row); the
    hardening controls from O(checks) - the output of C(sshd -T), the results of
    M(sdd.devops_flow.security_sysctl) and M(sdd.devops_flow.security_files), the firewall, the secrets' rotation
    checks of M(sdd.devops_flow.security_secret) and the result of M(sdd.devops_flow.security_scan).
  - A report that says the same as the one on disk is not rewritten (its time stays), so a second run reports no
    change.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  host:
    description:
      - The host the report is about.
    type: str
    required: true
  service:
    description:
      - The service (the model's C(service.name)).
    type: str
    default: ""
  environment:
    description:
      - The environment of the documents' 9.5.2.
    type: str
    default: ""
  documents:
    description:
      - The documents the requirements come from.
    type: list
    elements: str
    default: []
  security:
    description:
      - The model's C(security) part (9.5.6). No 9.5.6 rows when empty.
    type: dict
    default: {}
  sources:
    description:
      - The model's C(sources) (field path to C(file:line)).
    type: dict
    default: {}
  checks:
    description:
      - The evidence, by area. Areas that are missing give no controls.
      - C(ssh) - C(config) (the file), C(expected) (keyword to value), C(effective) (the output of C(sshd -T)),
        C(dropins) (C(grep -n -H) lines of the drop-in files), C(error); or C(skipped) with the reason.
      - C(sysctl) - C(results), the RV(sdd.devops_flow.security_sysctl#module:results) of the kernel parameters.
      - C(files) - C(results), the RV(sdd.devops_flow.security_files#module:results) of the file permissions.
      - C(firewall) - C(enabled), C(live), C(table), C(file), C(revision), C(roles) (app, lb, monitoring),
        C(ssh_port), C(ssh_sources), C(app_ports), C(app_sources), C(monitoring_ports), C(monitoring_sources),
        C(public_ports), C(document_rules) (the 9.5.6 network rules), C(first_rule) (the first rule of the input
        chain in force), C(error); or C(enabled=false) with a C(reason).
      - C(secrets) - C(secrets), the settings of each secret (C(name), C(backend), C(secret_id), C(dest), C(mode),
        C(rotation_days)), C(reads) and C(writes), the results of M(sdd.devops_flow.security_secret) that read and
        wrote each secret in the same order (C(status), C(evidence), C(msg), C(skipped)), C(default_backend) and
        C(rotation_days). Never the values.
      - C(scan) - C(ran), C(passed), C(summary), C(reason) (why it did not run).
      - C(controls) - controls already judged, each with C(id), C(title), C(status) (pass, fail or
        not-applicable) and C(evidence).
    type: dict
    default: {}
  json_path:
    description:
      - Where to write the JSON report. Not written when omitted.
    type: path
  markdown_path:
    description:
      - Where to write the Markdown report. Not written when omitted.
    type: path
  mode:
    description:
      - Permissions of the report files.
    type: str
    default: "0640"
  folder_mode:
    description:
      - Create the folder of the reports with these permissions when it does not exist (missing folders above it
        get V(0755)). Without it, a missing folder is an error.
    type: str
attributes:
  check_mode:
    support: full
    description: Builds the report and says whether the files would change, without writing them.
  diff_mode:
    support: full
    description: Shows the Markdown report before and after.
seealso:
  - module: sdd.devops_flow.security_scan
  - module: sdd.devops_flow.security_secret
"""

EXAMPLES = r"""
- name: Report of this host
  sdd.devops_flow.compliance_report:
    host: "{{ inventory_hostname }}"
    service: order-intake-api
    security: "{{ model.security }}"
    sources: "{{ model.sources }}"
    checks:
      controls:
        - id: banner
          title: Login banner
          status: pass
          evidence: /etc/issue.net is in place
    json_path: /var/lib/sdd-devops-flow/security/compliance.json
    markdown_path: /var/lib/sdd-devops-flow/security/compliance.md
"""

RETURN = r"""
report:
  description: The report (the JSON written).
  returned: always
  type: dict
  sample:
    host: app1
    summary: {"pass": 40, "fail": 0, "not-applicable": 5}
    compliant: true
    controls:
      - id: ssh.passwordauthentication
        group: hardening
        title: sshd PasswordAuthentication no
        requirement: ""
        status: pass
        evidence: "sshd -T: passwordauthentication no"
        source: ""
summary:
  description: Number of controls per status.
  returned: always
  type: dict
  sample: {"pass": 40, "fail": 0, "not-applicable": 5}
failed_controls:
  description: The ids of the controls that failed (the module itself does not fail for them).
  returned: always
  type: list
  elements: str
  sample: ["9.5.6.secrets"]
"""

import datetime
import os
import tempfile
from typing import Any, Dict, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.security_compliance import (
    ReportError,
    build,
    markdown,
    same_report,
    to_json,
)


def _read(path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _write(module: AnsibleModule, path: str, text: str, mode: int, folder_mode: Optional[int]) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        if folder_mode is None:
            module.fail_json(msg="the folder of %s does not exist (folder_mode creates it)" % path)
        try:
            os.makedirs(os.path.dirname(folder), 0o755, exist_ok=True)
            os.mkdir(folder, folder_mode)
            os.chmod(folder, folder_mode)
        except OSError as exc:
            module.fail_json(msg="cannot create %s: %s" % (folder, exc.strerror or exc))
    handle, tmp = tempfile.mkstemp(prefix=".sdd-report-", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "service": {"type": "str", "default": ""},
            "environment": {"type": "str", "default": ""},
            "documents": {"type": "list", "elements": "str", "default": []},
            "security": {"type": "dict", "default": {}},
            "sources": {"type": "dict", "default": {}},
            "checks": {"type": "dict", "default": {}},
            "json_path": {"type": "path"},
            "markdown_path": {"type": "path"},
            "mode": {"type": "str", "default": "0640"},
            "folder_mode": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        mode = int(str(params["mode"]), 8)
        folder_mode = int(params["folder_mode"], 8) if params["folder_mode"] else None
        report: Dict[str, Any] = build(
            params["host"],
            params["service"],
            params["environment"],
            params["documents"],
            params["security"] or {},
            params["sources"] or {},
            params["checks"] or {},
        )
    except (ReportError, ValueError, KeyError, TypeError) as exc:
        module.fail_json(msg="cannot build the compliance report of %s: %s" % (params["host"], exc))
    old_json = _read(params["json_path"])
    kept = same_report(old_json, report)
    stamp = kept or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    ordered: Dict[str, Any] = {"report": report.pop("report"), "generated_at": stamp}
    ordered.update(report)
    json_text, markdown_text = to_json(ordered), markdown(ordered)
    changed = False
    result: Dict[str, Any] = {"report": ordered, "summary": ordered["summary"]}
    result["failed_controls"] = [c["id"] for c in ordered["controls"] if c["status"] == "fail"]
    for path, text in ((params["json_path"], json_text), (params["markdown_path"], markdown_text)):
        if not path:
            continue
        before = old_json if path == params["json_path"] else _read(path)
        if before == text:
            continue
        changed = True
        if module._diff and path == params["markdown_path"]:
            result["diff"] = {"before": before or "", "after": text, "before_header": path, "after_header": path}
        if not module.check_mode:
            _write(module, path, text, mode, folder_mode)
    result["changed"] = changed
    module.exit_json(**result)


if __name__ == "__main__":
    main()
