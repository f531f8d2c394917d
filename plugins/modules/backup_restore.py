#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_restore
short_description: Restore PostgreSQL databases and file trees from a backup, checked table by table
version_added: "0.1.0"
description:
  - Restores the newest good backup (or O(backup_id)) from the first destination that holds it intact; when a copy
    is damaged the same backup is taken from the next destination (another region), never an older one unasked.
  - Global objects (roles) first, then each database into C(<target>__restoring), whose per-table row counts and
    checksums are compared with the manifest; only then is it renamed to the target. An existing target is replaced
    only with O(restore.replace) (dropped, or kept as C(<target>__before_<id>) with O(restore.keep_previous)).
  - File archives are extracted under O(restore.files_dest).
  - The time taken is recorded in the host's history and compared with O(rto_seconds).
  - A restore is an action and always reports C(changed).
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.backup
options:
  backup_id:
    description:
      - The backup to restore, V(latest) (the newest that is complete and not found corrupt) or an id.
    type: str
    default: latest
  rto_seconds:
    description:
      - The recovery time objective the restore time is compared with.
    type: int
    default: 0
  restore:
    description:
      - What to restore and how.
    type: dict
    default: {}
    suboptions:
      databases:
        description: Databases of the backup to restore; all of them when empty.
        type: list
        elements: str
        default: []
      target_databases:
        description: Restore a database under another name (backup name to target name).
        type: dict
        default: {}
      replace:
        description: Replace a target database that exists (after the restored copy passed its checks).
        type: bool
        default: false
      keep_previous:
        description: Keep a replaced database as C(<target>__before_<backup id>) instead of dropping it.
        type: bool
        default: false
      globals:
        description: Restore the global objects (roles that exist are kept).
        type: bool
        default: true
      owner:
        description: Restore ownership and privileges (C(--no-owner --no-privileges) when false).
        type: bool
        default: true
      jobs:
        description: Parallel C(pg_restore) jobs.
        type: int
        default: 2
      check_data:
        description: Compare the restored tables' row counts and checksums with the manifest before the swap.
        type: bool
        default: true
      file_sets:
        description: File sets to restore; all of them when unset, none with an empty list.
        type: list
        elements: str
      files_dest:
        description: Folder the archives are extracted under; V(/) puts the files back where they were.
        type: path
        default: /
attributes:
  check_mode:
    support: full
    description: Reports which backup would be restored from where, and the plan; nothing is downloaded or changed.
  diff_mode:
    support: full
    description: Shows the restored backup and targets.
seealso:
  - module: sdd.devops_flow.backup_create
  - module: sdd.devops_flow.backup_verify
"""

EXAMPLES = r"""
- name: Restore the newest good backup of the order database after it was lost
  sdd.devops_flow.backup_restore:
    service: order-intake-api
    postgresql:
      host: 10.0.1.20
      password: "{{ vault_postgres_password }}"
    destinations:
      - type: s3
        bucket: order-intake-api-backups
        region: us-east-1
      - type: s3
        bucket: order-intake-api-backups-dr
        region: us-west-2
    secret_store:
      secret_id: order-intake/prod/backup-key
      region: us-east-1
    rto_seconds: 1800
    restore:
      databases: [orders]

- name: Restore yesterday's backup beside the live database to compare
  sdd.devops_flow.backup_restore:
    service: order-intake-api
    backup_id: 20250130T020000Z
    postgresql:
      host: 10.0.1.20
    destinations:
      - type: local
        path: /mnt/backups
    encryption_key: "{{ vault_backup_key }}"
    restore:
      target_databases:
        orders: orders_20250130
"""

RETURN = r"""
backup_id:
  description: The backup restored (or that would be).
  returned: success
  type: str
  sample: 20250131T020000Z
source:
  description: The destination it came from.
  returned: success
  type: str
  sample: s3://order-intake-api-backups (us-east-1)
plan:
  description: Databases (backup name to target), globals, file sets and their folder.
  returned: success
  type: dict
  sample: {"databases": {"orders": "orders"}, "globals": true, "file_sets": [], "files_dest": "/", "replace": false}
steps:
  description: What was done, with the seconds of each step and the per-table comparison of each database.
  returned: when restored
  type: list
  elements: dict
timings:
  description: Seconds to fetch (download, check, decrypt) and in total.
  returned: when restored
  type: dict
  sample: {"fetch_seconds": 1.2, "total_seconds": 6.3}
rto:
  description: The objective, the restore's seconds, and whether it met the objective.
  returned: when restored
  type: dict
  sample: {"objective_seconds": 1800, "seconds": 6.3, "met": true}
tried:
  description: Destinations that did not hold the backup intact, and why.
  returned: when restored
  type: list
  elements: str
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
            backup_id={"type": "str", "default": "latest"},
            rto_seconds={"type": "int", "default": 0},
            restore={
                "type": "dict",
                "default": {},
                "options": {
                    "databases": {"type": "list", "elements": "str", "default": []},
                    "target_databases": {"type": "dict", "default": {}},
                    "replace": {"type": "bool", "default": False},
                    "keep_previous": {"type": "bool", "default": False},
                    "globals": {"type": "bool", "default": True},
                    "owner": {"type": "bool", "default": True},
                    "jobs": {"type": "int", "default": 2},
                    "check_data": {"type": "bool", "default": True},
                    "file_sets": {"type": "list", "elements": "str"},
                    "files_dest": {"type": "path", "default": "/"},
                },
            },
        ),
        mutually_exclusive=[("encryption_key", "encryption_key_file", "secret_store")],
        supports_check_mode=True,
    )

    def action(settings: Dict[str, Any], runner: Runner) -> Dict[str, Any]:
        result = backup_engine.restore(settings, runner, check_mode=module.check_mode)
        if module._diff:
            targets = result["plan"]["databases"]
            result["diff"] = {
                "before": "",
                "after": "backup %s from %s\n%s"
                % (
                    result["backup_id"],
                    result["source"],
                    "".join("database %s -> %s\n" % item for item in sorted(targets.items())),
                ),
            }
        return result

    run(module, action)


if __name__ == "__main__":
    main()
