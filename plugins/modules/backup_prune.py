#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_prune
short_description: Delete backups past their retention, by age and count, in every destination
version_added: "0.1.0"
description:
  - In every destination, deletes the complete backups older than O(retention_days) and those beyond the newest
    O(max_count), and the incomplete ones (without a manifest, left by an interrupted run) older than
    O(incomplete_after_seconds).
  - The newest O(keep_last) good backups are never deleted, whatever their age; a backup that failed verification is
    not counted among them, so a corrupt newest backup never causes the loss of an older good one.
  - The manifest of a backup is deleted first, so an interrupted prune leaves an incomplete backup, never one that
    looks complete and is not.
  - The age of a backup is its time in the manifest (the backup id), not the objects' modification time.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.backup
options:
  retention_days:
    description:
      - Days a backup is kept (the documents' C(backup.retention_days)); 0 keeps backups of any age.
    type: int
    default: 0
  keep_last:
    description:
      - The newest good backups always kept.
    type: int
    default: 1
  max_count:
    description:
      - Most complete backups kept (0 for no limit).
    type: int
    default: 0
  incomplete_after_seconds:
    description:
      - Age after which an incomplete backup is deleted.
    type: int
    default: 86400
  now:
    description:
      - The time ages are measured from (ISO 8601) instead of now. For tests and dry runs.
    type: str
attributes:
  check_mode:
    support: full
    description: Reports what would be deleted.
  diff_mode:
    support: full
    description: Shows the backup ids before and after.
seealso:
  - module: sdd.devops_flow.backup_create
  - module: sdd.devops_flow.backup_info
"""

EXAMPLES = r"""
- name: Keep 14 days of backups (and always the newest 3 good ones)
  sdd.devops_flow.backup_prune:
    service: order-intake-api
    destinations:
      - type: s3
        bucket: order-intake-api-backups
        region: us-east-1
    retention_days: 14
    keep_last: 3
"""

RETURN = r"""
destinations:
  description: Per destination, the backups deleted (id, reason, time) and the ids kept.
  returned: always
  type: list
  elements: dict
  sample:
    - destination: s3://order-intake-api-backups (us-east-1)
      deleted: [{"id": "20250101T020000Z", "reason": "older than 14 days", "created": "2025-01-01T02:00:00Z"}]
      kept: ["20250131T020000Z", "20250130T020000Z"]
"""

from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_args import common_spec, ids_text, run
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            common_spec(),
            retention_days={"type": "int", "default": 0},
            keep_last={"type": "int", "default": 1},
            max_count={"type": "int", "default": 0},
            incomplete_after_seconds={"type": "int", "default": 86400},
            now={"type": "str"},
        ),
        mutually_exclusive=[("encryption_key", "encryption_key_file", "secret_store")],
        supports_check_mode=True,
    )

    def action(settings: Dict[str, Any], runner: Runner) -> Dict[str, Any]:
        result = backup_engine.prune(settings, check_mode=module.check_mode)
        if module._diff:
            first = result["destinations"][0]
            before = sorted(first["kept"] + [d["id"] for d in first["deleted"]])
            result["diff"] = {"before": ids_text(before), "after": ids_text(sorted(first["kept"]))}
        return result

    run(module, action)


if __name__ == "__main__":
    main()
