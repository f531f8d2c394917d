#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_verify
short_description: Check that a backup restores and holds what its manifest says
version_added: "0.1.0"
description:
  - Downloads a backup from every destination given and checks each artifact's size and sha256 against the
    manifest (a flipped byte or a truncated upload is found here), decrypts it (the authentication tag catches any
    other change), restores each database into a scratch database, and compares the per-table row counts and
    checksums with those of the source taken when the backup was made (in the dump's own snapshot). File archives
    are read back and their content digest compared. The scratch database is always dropped.
  - A copy whose artifact has the same sha256 as one already restored in the same run (the copy in a second region)
    is checked by its size, sha256 and decryption, and compared with that restore, instead of being restored again.
  - The result is recorded next to the backup (C(verification.json)). M(sdd.devops_flow.backup_prune) never counts a
    corrupt backup among the ones it must keep, and M(sdd.devops_flow.backup_restore) skips it; nothing else in the
    destination is touched, older backups in particular.
  - Fails when a backup fails verification (set O(fail_on_error=false) to only report it).
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.backup
options:
  backup_id:
    description:
      - The backup to verify, V(latest) (the newest complete one), V(all), or an id.
    type: str
    default: latest
  fail_on_error:
    description:
      - Fail the task when a backup fails verification.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Downloads and checks sizes, sha256, decryption and the archives' table of contents; skips the scratch
      restore and the record.
  diff_mode:
    support: full
    description: Shows the recorded status of the backups before and after.
seealso:
  - module: sdd.devops_flow.backup_create
  - module: sdd.devops_flow.backup_restore
"""

EXAMPLES = r"""
- name: Verify the newest backup in both regions (restore into a scratch database)
  sdd.devops_flow.backup_verify:
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
"""

RETURN = r"""
verified:
  description: True when every checked backup copy passed.
  returned: always
  type: bool
  sample: true
backups:
  description:
    - One entry per backup and destination, with the status (V(ok) or V(failed)), the problems found, the per-table
      comparison (C(tables) - database - table - rows, expected_rows, checksum_match) and the scratch restore time.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 20250131T020000Z
      destination: s3://order-intake-api-backups (us-east-1)
      status: ok
      problems: []
      restore_seconds: 3.9
      tables: {"orders": {"public.orders": {"rows": 100000, "expected_rows": 100000, "checksum_match": true}}}
"""

from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_args import common_spec, run
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner


def status_text(settings: Dict[str, Any]) -> str:
    lines = []
    for spec in settings["destinations"]:
        store = backup_engine.open_store(dict(spec))
        for backup in backup_engine.catalog(store, settings["service"]):
            lines.append("%s %s: %s\n" % (store.describe(), backup.id, backup.status))
    return "".join(lines)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            common_spec(),
            backup_id={"type": "str", "default": "latest"},
            fail_on_error={"type": "bool", "default": True},
        ),
        mutually_exclusive=[("encryption_key", "encryption_key_file", "secret_store")],
        supports_check_mode=True,
    )

    def action(settings: Dict[str, Any], runner: Runner) -> Dict[str, Any]:
        before = status_text(settings) if module._diff else ""
        result = backup_engine.verify(settings, runner, check_mode=module.check_mode)
        if module._diff:
            result["diff"] = {"before": before, "after": before if module.check_mode else status_text(settings)}
        if not result["verified"] and settings.get("fail_on_error", True) and result["backups"]:
            module.fail_json(**result)
        return result

    run(module, action)


if __name__ == "__main__":
    main()
