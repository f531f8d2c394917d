#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_create
short_description: Back up PostgreSQL databases and file trees to a folder, S3, GCS or Azure Blob, with copies
version_added: "0.1.0"
description:
  - Dumps each PostgreSQL database (C(pg_dump) custom format) and the global objects (C(pg_dumpall --globals-only)),
    and archives file trees (GNU tar with gzip or zstd), on the host the task runs on.
  - Each database is dumped in one snapshot in which its per-table row counts and checksums are also computed, and
    written into the backup's manifest (C(manifest.json)) with the sizes and sha256 of every artifact, the tool
    versions, the source and the timings. M(sdd.devops_flow.backup_verify) checks a backup against it.
  - With O(encryption_key), O(encryption_key_file) or O(secret_store) every artifact is encrypted (AES-256-GCM)
    before it leaves the host.
  - The artifacts go to the first destination, then to every other one (cross-region or geo-redundant copies); the
    manifest is written last, so a backup without one is incomplete and is never restored.
  - "Idempotence: a backup is an action, so a run that makes one reports C(changed). When the newest good backup is
    younger than O(min_interval_seconds) (the RPO window) no backup is made and the module reports C(changed=false)
    and C(skipped=true); O(force) makes one anyway."
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.backup
options:
  files:
    description:
      - File trees to archive, one archive per set.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the set (letters, digits, V(.), V(_), V(-)), the archive's name.
        type: str
        required: true
      paths:
        description: Absolute paths (folders or files), stored relative to C(/).
        type: list
        elements: path
        required: true
      exclude:
        description: tar C(--exclude) patterns.
        type: list
        elements: str
        default: []
      compression:
        description: Compression of the archive.
        type: str
        choices: [gzip, zstd, none]
        default: gzip
  min_interval_seconds:
    description:
      - Make no backup while the newest good backup in the primary destination is younger than this (0 never
        skips). The backup role sets it to the RPO of the documents.
    type: int
    default: 0
  force:
    description:
      - Back up even inside O(min_interval_seconds).
    type: bool
    default: false
  timestamp:
    description:
      - The backup's time (ISO 8601, UTC when it has no offset) instead of now; it names the backup and decides its
        age for retention. For imports of older dumps and for tests.
    type: str
  rpo_seconds:
    description:
      - The recovery point objective, recorded in the manifest with the gap since the previous backup.
    type: int
    default: 0
  labels:
    description:
      - Free labels written into the manifest (for example the environment or the requirement ids).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Reports whether a backup would be made and its id; nothing is dumped or written.
  diff_mode:
    support: full
    description: Shows the backup ids in the primary destination before and after.
notes:
  - The engine runs on the host with Python 3.9+; S3 and Secrets Manager need boto3, encryption needs cryptography,
    GCS needs google-cloud-storage and Azure azure-storage-blob (the backup role installs what is missing).
  - The same engine runs the scheduled backups the backup role installs (cron or a systemd timer).
seealso:
  - module: sdd.devops_flow.backup_verify
  - module: sdd.devops_flow.backup_restore
  - module: sdd.devops_flow.backup_prune
  - module: sdd.devops_flow.backup_info
"""

EXAMPLES = r"""
- name: Back up the order database to S3 with a copy in a second region, key from Secrets Manager
  sdd.devops_flow.backup_create:
    service: order-intake-api
    postgresql:
      host: 10.0.1.20
      password: "{{ vault_postgres_password }}"
      databases: [orders]
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
    min_interval_seconds: 300
    rpo_seconds: 300

- name: Back up a folder to a mounted NFS share, encrypted with a vault variable
  sdd.devops_flow.backup_create:
    service: uploads
    files:
      - name: uploads
        paths: [/srv/uploads]
        exclude: ["*.tmp"]
        compression: zstd
    destinations:
      - type: local
        path: /mnt/backups
    encryption_key: "{{ vault_backup_key }}"
"""

RETURN = r"""
backup_id:
  description: Id of the backup made (or of the newest one when skipped).
  returned: success
  type: str
  sample: 20250131T020000Z
skipped:
  description: True when no backup was made because the newest is inside O(min_interval_seconds).
  returned: success
  type: bool
  sample: false
location:
  description: Folder of the backup in the primary destination.
  returned: when a backup was made
  type: str
  sample: s3://order-intake-api-backups/order-intake-api/20250131T020000Z/
destinations:
  description: The destinations, primary first.
  returned: always
  type: list
  elements: str
  sample: ["s3://order-intake-api-backups (us-east-1)", "s3://order-intake-api-backups-dr (us-west-2)"]
copies:
  description: The copies made after the primary, with their upload time.
  returned: when a backup was made
  type: list
  elements: dict
  sample: [{"destination": "s3://order-intake-api-backups-dr (us-west-2)", "seconds": 1.2}]
manifest:
  description: The backup's manifest (artifacts with sizes, sha256 and per-table checksums, tools, source, timings).
  returned: when a backup was made
  type: dict
timings:
  description: Seconds spent dumping, archiving, encrypting, uploading, and in total.
  returned: when a backup was made
  type: dict
  sample: {"dump_seconds": 3.1, "encrypt_seconds": 0.4, "upload_seconds": 0.2, "total_seconds": 4.2}
rpo:
  description: The RPO objective, the previous backup and the gap since it, and whether the gap met the objective.
  returned: when a backup was made
  type: dict
  sample: {"objective_seconds": 300, "previous_backup": "20250131T015500Z", "gap_seconds": 300, "met": true}
bytes:
  description: Size of the stored artifacts.
  returned: when a backup was made
  type: int
  sample: 1048576
"""

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_args import common_spec, ids_text, run
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner


def list_ids(settings: Dict[str, Any]) -> List[backup_engine.Backup]:
    store = backup_engine.open_store(dict(settings["destinations"][0]))
    return backup_engine.catalog(store, settings["service"])


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            common_spec(),
            files={
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "paths": {"type": "list", "elements": "path", "required": True},
                    "exclude": {"type": "list", "elements": "str", "default": []},
                    "compression": {"type": "str", "choices": ["gzip", "zstd", "none"], "default": "gzip"},
                },
            },
            min_interval_seconds={"type": "int", "default": 0},
            force={"type": "bool", "default": False},
            timestamp={"type": "str"},
            rpo_seconds={"type": "int", "default": 0},
            labels={"type": "dict", "default": {}},
        ),
        mutually_exclusive=[("encryption_key", "encryption_key_file", "secret_store")],
        supports_check_mode=True,
    )

    def action(settings: Dict[str, Any], runner: Runner) -> Dict[str, Any]:
        before = [b.id for b in list_ids(settings)] if module._diff else []
        result = backup_engine.create(settings, runner, check_mode=module.check_mode)
        if module._diff:
            after = before if result.get("skipped") else sorted(before + [result["backup_id"]])
            result["diff"] = {"before": ids_text(sorted(before)), "after": ids_text(after)}
        return result

    run(module, action)


if __name__ == "__main__":
    main()
