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
options:
  service:
    description:
      - Name of the service the backups belong to (letters, digits, V(.), V(_), V(-)); the first folder of every
        backup in a destination (C(<service>/<backup id>/)).
    type: str
    required: true
  destinations:
    description:
      - Where backups are kept. The first is the primary; the others hold copies (a second region or a second
        provider, for multi-region or geo-redundant backups).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A name for results and messages (V(primary), V(copy1), ... by default).
        type: str
      type:
        description:
          - V(local) a folder on the host (local disk or a mounted file system), V(s3) Amazon S3 or an S3-compatible
            endpoint (boto3), V(gcs) Google Cloud Storage (google-cloud-storage), V(azure) Azure Blob Storage
            (azure-storage-blob).
        type: str
        choices: [local, s3, gcs, azure]
        default: local
      path:
        description: The folder of a V(local) destination.
        type: path
      bucket:
        description: The bucket of an V(s3) or V(gcs) destination.
        type: str
      prefix:
        description: A folder inside the bucket, container or path.
        type: str
        default: ""
      region:
        description: The region of an V(s3) destination.
        type: str
      endpoint_url:
        description: Another S3 endpoint (an S3-compatible store, or a test server).
        type: str
      access_key:
        description: AWS access key id; the default credential chain (environment, profile, instance role) when unset.
        type: str
      secret_key:
        description: AWS secret access key.
        type: str
      session_token:
        description: AWS session token.
        type: str
      profile:
        description: AWS profile.
        type: str
      sse:
        description: S3 server-side encryption, V(AES256) or V(aws:kms).
        type: str
      kms_key_id:
        description: KMS key of V(aws:kms) server-side encryption.
        type: str
      storage_class:
        description: S3 storage class, GCS storage class, or Azure blob tier.
        type: str
      project:
        description: Google Cloud project of a V(gcs) destination.
        type: str
      credentials_file:
        description: Service account JSON of a V(gcs) destination (application default credentials when unset).
        type: path
      account_url:
        description: Account URL of an V(azure) destination (C(https://<account>.blob.core.windows.net)).
        type: str
      container:
        description: Container of an V(azure) destination.
        type: str
      connection_string:
        description: Connection string of an V(azure) destination (instead of O(destinations[].account_url)).
        type: str
      credential:
        description: Account key or SAS token of an V(azure) destination (DefaultAzureCredential when unset).
        type: str
  postgresql:
    description:
      - The PostgreSQL server (client tools C(psql), C(pg_dump), C(pg_dumpall), C(pg_restore) on the host).
    type: dict
    suboptions:
      host:
        description: Server address; the local socket when empty.
        type: str
        default: ""
      port:
        description: Server port.
        type: int
        default: 5432
      user:
        description: Role that connects (needs to read every table; CREATEDB to verify and restore).
        type: str
        default: postgres
      password:
        description: Password of O(postgresql.user) (given to the tools through the environment, never logged).
        type: str
      maintenance_db:
        description: Database to connect to for server-wide statements.
        type: str
        default: postgres
      sslmode:
        description: libpq sslmode (V(require), V(verify-full), ...).
        type: str
        default: ""
      bin_dir:
        description: Folder of the client tools; the newest C(/usr/lib/postgresql/*/bin), else PATH, when unset.
        type: path
      databases:
        description: Databases to back up; every database that accepts connections when empty.
        type: list
        elements: str
        default: []
      exclude_databases:
        description: Databases left out.
        type: list
        elements: str
        default: []
      globals:
        description: Back up (and restore) the global objects, roles and tablespaces (C(pg_dumpall --globals-only)).
        type: bool
        default: true
      role_passwords:
        description: Keep the roles' password hashes in the globals (C(--no-role-passwords) when false).
        type: bool
        default: true
      compress:
        description: Compression level of C(pg_dump) (0-9).
        type: int
        default: 6
  encryption_key:
    description:
      - Encrypt every artifact with this key (AES-256-GCM, key derived with scrypt). For example an ansible-vault
        variable. Never logged.
    type: str
  encryption_key_file:
    description:
      - A file on the host holding the encryption key (used by scheduled runs).
    type: path
  secret_store:
    description:
      - Read the encryption key from a secret store instead (the key never passes through Ansible).
    type: dict
    suboptions:
      type:
        description: The secret store.
        type: str
        choices: [aws-secrets-manager]
        default: aws-secrets-manager
      secret_id:
        description: Name or ARN of the secret.
        type: str
        required: true
      json_key:
        description: Field of a JSON secret that holds the key (the whole secret string when unset).
        type: str
      region:
        description: AWS region.
        type: str
      endpoint_url:
        description: Another Secrets Manager endpoint (a test server).
        type: str
      access_key:
        description: AWS access key id; the default credential chain when unset.
        type: str
      secret_key:
        description: AWS secret access key.
        type: str
      session_token:
        description: AWS session token.
        type: str
      profile:
        description: AWS profile.
        type: str
  staging_dir:
    description:
      - Folder on the host for the artifacts while they are made or checked (removed after each run; needs room
        for the largest backup).
    type: path
    default: /var/lib/sdd-devops-flow/backup-staging
  state_dir:
    description:
      - Folder on the host with the lock and the history of backups, verifications and restores (timings).
    type: path
    default: /var/lib/sdd-devops-flow/backup
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
