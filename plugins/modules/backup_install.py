#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_install
short_description: Install the engine, settings, credentials and command of scheduled backups on a host
version_added: "0.1.0"
description:
  - Writes, in one step, what the scheduled runs of the sdd.devops_flow.backup role need on the host - the engine
    (the very sources of the M(sdd.devops_flow.backup_create) family of modules), the command line O(cli), the
    settings file (checked by the engine before it is written, and refused when it holds a secret), the secrets
    file (O(secrets), mode 0600), and the wrapper O(command) that cron or a systemd timer runs (checked with
    C(bash -n)).
  - Creates the configuration (0700), state, staging and log folders and the folders of local destinations.
  - Every file is written atomically and only when its content or mode differs, so a second run reports no
    change. The secrets file is removed when there is no secret, and never appears in a diff.
  - Reports what the host has (Python packages for O(python), PostgreSQL client tools, tar, zstd, cron and whether
    it runs, systemd), so that a role installs only what is missing.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  service:
    description:
      - Name of the service (letters, digits, V(.), V(_), V(-)); names the settings and secrets files.
    type: str
    required: true
  settings:
    description:
      - Settings of the scheduled runs, the options of M(sdd.devops_flow.backup_create),
        M(sdd.devops_flow.backup_verify) and M(sdd.devops_flow.backup_prune) (C(destinations), C(postgresql),
        C(files), C(min_interval_seconds), C(retention_days), C(keep_last), C(verify_after), ...) without any secret.
      - O(service) is set by the module; C(staging_dir) and C(state_dir) get their defaults when unset.
    type: dict
    required: true
  cli:
    description:
      - Content of the command line of scheduled runs (C(sdd_backup.py) of the backup role's files).
    type: str
    required: true
  secrets:
    description:
      - The secrets of the scheduled runs, kept apart from the settings in C(<config_dir>/<service>.secrets.json)
        (mode 0600) and put back by the command line at run time - C(destinations) (a list matched by position
        with the settings' destinations, each with C(access_key), C(secret_key), C(session_token),
        C(connection_string) or C(credential)), C(postgresql) (C(password)), C(secret_store) (C(access_key),
        C(secret_key)) and C(encryption_key).
      - Empty values are left out; the file is removed when no secret is left. Never logged, never in a diff.
    type: dict
    default: {}
  engine_dir:
    description:
      - Folder the engine and the command line are installed into (the PYTHONPATH of scheduled runs).
    type: path
    default: /usr/local/lib/sdd-devops-flow
  config_dir:
    description:
      - Folder of the settings and secrets files (mode 0700).
    type: path
    default: /etc/sdd-devops-flow/backup
  log_dir:
    description:
      - Folder of the scheduled runs' log (created when missing).
    type: path
    default: /var/log/sdd-devops-flow
  command:
    description:
      - Path of the wrapper cron or the systemd unit runs; C(/usr/local/sbin/sdd-backup-<service>) when unset.
    type: path
  python:
    description:
      - Python of the host that runs scheduled backups (3.9 or newer).
    type: path
    default: /usr/bin/python3
attributes:
  check_mode:
    support: full
    description: Reports which files and folders would change, and probes the host; nothing is written.
  diff_mode:
    support: full
    description: Before and after of every changed file; the secrets file shows no content.
notes:
  - The engine runs the same code as the modules; installing it again after a collection upgrade updates it.
seealso:
  - module: sdd.devops_flow.backup_create
"""

EXAMPLES = r"""
- name: Engine and settings of the scheduled backups of the order service
  sdd.devops_flow.backup_install:
    service: order-intake-api
    cli: "{{ lookup('ansible.builtin.file', 'sdd_backup.py') }}"
    settings:
      destinations:
        - type: s3
          bucket: order-intake-api-backups
          region: us-east-1
      postgresql:
        host: 10.0.1.20
        databases: [orders]
      min_interval_seconds: 300
      retention_days: 14
      verify_after: true
    secrets:
      postgresql:
        password: "{{ vault_postgres_password }}"
      encryption_key: "{{ vault_backup_key }}"
  register: installed

- name: Install cron when it is missing
  ansible.builtin.package:
    name: cron
  when: not installed.host.tools.cron
"""

RETURN = r"""
command:
  description: The wrapper scheduled runs call.
  returned: always
  type: str
  sample: /usr/local/sbin/sdd-backup-order-intake-api
settings_path:
  description: The settings file.
  returned: always
  type: str
  sample: /etc/sdd-devops-flow/backup/order-intake-api.json
changed_paths:
  description: Files and folders written, created or removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/sdd-devops-flow/backup/order-intake-api.json]
host:
  description: What the host has.
  returned: always
  type: dict
  contains:
    python_packages:
      description:
        - Importable by O(python) - boto3, cryptography, gcs (google-cloud-storage), azure (azure-storage-blob).
      type: dict
      sample: {"boto3": true, "cryptography": true, "gcs": false, "azure": false}
    tools:
      description: Installed programs - pg_dump, pg_restore, psql, pg_dumpall, tar, zstd, crontab, bash, cron.
      type: dict
      sample: {"pg_dump": true, "cron": true, "zstd": false}
    cron_running:
      description: Whether cron runs on the host.
      type: bool
    systemd:
      description: Whether systemd is the service manager (C(/run/systemd/system) exists).
      type: bool
"""

import os
from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_install
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import module_runner


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "service": {"type": "str", "required": True},
            "settings": {"type": "dict", "required": True},
            "cli": {"type": "str", "required": True},
            "secrets": {"type": "dict", "default": {}, "no_log": True},
            "engine_dir": {"type": "path", "default": "/usr/local/lib/sdd-devops-flow"},
            "config_dir": {"type": "path", "default": "/etc/sdd-devops-flow/backup"},
            "log_dir": {"type": "path", "default": "/var/log/sdd-devops-flow"},
            "command": {"type": "path"},
            "python": {"type": "path", "default": "/usr/bin/python3"},
        },
        supports_check_mode=True,
    )
    runner = module_runner(module)
    try:
        planned = backup_install.plan(module.params)
        changed = [item.path for item in planned["files"] if item.changed] + planned["missing_folders"]
        if changed and not module.check_mode:
            backup_install.apply(planned, runner)
        host = backup_install.probe(module.params["python"], runner)
    except (backup_install.InstallError, OSError) as exc:
        module.fail_json(msg="backup_install: %s" % exc)
    result: Dict[str, Any] = {
        "changed": bool(changed),
        "command": planned["command"],
        "settings_path": planned["settings_path"],
        "changed_paths": sorted(changed),
        "host": host,
    }
    if module._diff:
        result["diff"] = backup_install.diffs(planned)
    if changed:
        result["msg"] = "%s %d files and folders" % (
            "would change" if module.check_mode else "changed",
            len(changed),
        )
    else:
        result["msg"] = "everything in place under %s" % os.path.dirname(planned["settings_path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
