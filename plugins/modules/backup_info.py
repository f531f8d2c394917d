#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_info
short_description: List backups and report the achieved RPO and RTO against the objectives
version_added: "0.1.0"
description:
  - Lists the backups of a service in every destination (id, time, size, status V(verified), V(unverified),
    V(corrupt) or V(incomplete)).
  - Reports the RPO actually achieved (the longest time without a good backup, between backups and since the newest)
    and what the schedule allows (interval plus the last backup's duration), and the RTO measured by the last
    restore (or the last verification's scratch restore), each compared with the objective of the documents.
  - Reads only; never changes anything.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.backup
options:
  rpo_seconds:
    description:
      - The recovery point objective (the documents' C(backup.rpo_seconds)); 0 for none.
    type: int
    default: 0
  rto_seconds:
    description:
      - The recovery time objective (the documents' C(backup.rto_seconds)); 0 for none.
    type: int
    default: 0
  interval_seconds:
    description:
      - The backup schedule's interval (the documents' C(backup.interval_seconds)); 0 when unscheduled.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode too.
  diff_mode:
    support: none
    description: Changes nothing, so has no diff.
seealso:
  - module: sdd.devops_flow.backup_create
  - module: sdd.devops_flow.backup_restore
"""

EXAMPLES = r"""
- name: RPO and RTO of the order service against its documents
  sdd.devops_flow.backup_info:
    service: order-intake-api
    destinations:
      - type: s3
        bucket: order-intake-api-backups
        region: us-east-1
    rpo_seconds: 300
    rto_seconds: 1800
    interval_seconds: 86400
  register: backups

- name: Show the report
  ansible.builtin.debug:
    var: backups.report
"""

RETURN = r"""
destinations:
  description: Per destination, its backups newest first (id, created, status, bytes, encrypted, databases, file sets).
  returned: always
  type: list
  elements: dict
latest:
  description: The newest good backup of the primary destination.
  returned: always
  type: dict
report:
  description: RPO and RTO achieved against the objectives.
  returned: always
  type: dict
  sample:
    rpo: {"objective_seconds": 300, "latest_backup_age_seconds": 120, "max_gap_seconds": 86400, "worst_seconds": 86400,
          "met": false, "schedule_interval_seconds": 86400, "schedule_worst_case_seconds": 86404,
          "schedule_meets_objective": false}
    rto: {"objective_seconds": 1800, "last_restore_seconds": 6.3, "last_verify_restore_seconds": 3.9,
          "measured_seconds": 6.3, "met": true}
    backups: 14
    last_backup_seconds: 4.2
"""

from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_args import common_spec, run
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            common_spec(),
            rpo_seconds={"type": "int", "default": 0},
            rto_seconds={"type": "int", "default": 0},
            interval_seconds={"type": "int", "default": 0},
        ),
        mutually_exclusive=[("encryption_key", "encryption_key_file", "secret_store")],
        supports_check_mode=True,
    )

    def action(settings: Dict[str, Any], runner: Runner) -> Dict[str, Any]:
        return backup_engine.info(settings)

    run(module, action)


if __name__ == "__main__":
    main()
