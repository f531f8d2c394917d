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
