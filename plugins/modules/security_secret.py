#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_secret
short_description: Read a secret, check its rotation age against 9.5.6 and write it to one file
version_added: "0.1.0"
description:
  - Reads a secret from AWS Secrets Manager (boto3), HashiCorp Vault (hvac, KV version 1 or 2), or takes it
    from O(value) (for example a variable encrypted with ansible-vault).
  - Checks how old the current value is against the rotation period of 9.5.6 (O(rotation_days), the model's
    C(security.secrets.rotation_days)) and returns the result with its evidence.
  - With O(dest) writes the secret to that file only (a temporary file in the same folder, then a rename), with
    O(mode) C(0600) by default; an unchanged secret is not written again.
  - The value never appears in the module's result, messages or diff, unless O(return_value=true), which the
    role uses to read a secret on the controller and write it on a host (both tasks with C(no_log)).
  - Always run this module with C(no_log) set to true.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  name:
    description:
      - A label for messages and the report (never the value). The secret id when omitted.
    type: str
  backend:
    description:
      - Where the secret is. V(value) takes it from O(value).
    type: str
    choices: [aws-secrets-manager, vault, value]
    required: true
  secret_id:
    description:
      - The secret's name or ARN in AWS Secrets Manager, or its path in HashiCorp Vault (under O(vault_mount)).
    type: str
  key:
    description:
      - One field of a JSON secret (AWS) or of the secret's data (Vault). The whole secret when omitted; a Vault
        secret with several fields is then written as a JSON object.
    type: str
  value:
    description:
      - The secret itself, for O(backend=value).
    type: str
  rotated_on:
    description:
      - When the value was last rotated (C(YYYY-MM-DD) or an ISO 8601 time), for O(backend=value) and for Vault
        KV version 1, which keep no change time.
    type: str
  rotation_days:
    description:
      - The longest time in days a value may be used (9.5.6). No check when omitted or 0.
    type: int
  fail_on_overdue:
    description:
      - Fail when the rotation check fails (after writing O(dest)).
    type: bool
    default: false
  dest:
    description:
      - File to write the secret to. Its folder must exist, or O(folder_mode) be given. Nothing is written when
        omitted.
    type: path
  mode:
    description:
      - Permissions of O(dest).
    type: str
    default: "0600"
  folder_mode:
    description:
      - Create the folder of O(dest) with these permissions when it does not exist (missing folders above it get
        V(0755)). An existing folder is left as it is. Without it, a missing folder is an error.
    type: str
  owner:
    description:
      - Owner of O(dest).
    type: str
  group:
    description:
      - Group of O(dest).
    type: str
  return_value:
    description:
      - Return the value as RV(value). Only for a task with C(no_log) whose result goes straight to another
        C(no_log) task.
    type: bool
    default: false
  aws_region:
    description:
      - AWS region of Secrets Manager (else the usual AWS configuration).
    type: str
  aws_endpoint_url:
    description:
      - Another Secrets Manager endpoint (a VPC endpoint, or moto in tests).
    type: str
  aws_profile:
    description:
      - Profile of the AWS configuration files.
    type: str
  aws_access_key_id:
    description:
      - Access key id (else the usual AWS configuration and environment).
    type: str
  aws_secret_access_key:
    description:
      - Secret access key.
    type: str
  aws_session_token:
    description:
      - Session token of temporary credentials.
    type: str
  vault_url:
    description:
      - Address of HashiCorp Vault.
    type: str
  vault_auth:
    description:
      - How to log in to Vault.
    type: str
    choices: [token, approle]
    default: token
  vault_token:
    description:
      - Vault token for O(vault_auth=token).
    type: str
  vault_role_id:
    description:
      - AppRole role id for O(vault_auth=approle).
    type: str
  vault_secret_id:
    description:
      - AppRole secret id for O(vault_auth=approle).
    type: str
  vault_namespace:
    description:
      - Vault Enterprise namespace.
    type: str
  vault_mount:
    description:
      - Mount point of the KV secrets engine.
    type: str
    default: secret
  vault_kv_version:
    description:
      - Version of the KV secrets engine.
    type: int
    choices: [1, 2]
    default: 2
  vault_ca_cert:
    description:
      - CA bundle that signed Vault's certificate.
    type: path
  vault_validate_certs:
    description:
      - Check Vault's TLS certificate.
    type: bool
    default: true
requirements:
  - boto3 (AWS Secrets Manager) or hvac (HashiCorp Vault) on the host that reads the secret
attributes:
  check_mode:
    support: full
    description: Reads the secret and reports whether O(dest) would change, without writing.
  diff_mode:
    support: partial
    description: Says that O(dest) changes, never with the secret's content.
notes:
  - Reading the metadata only (no O(dest), no O(return_value)) needs C(secretsmanager:DescribeSecret) on AWS, not
    C(GetSecretValue).
"""

EXAMPLES = r"""
- name: Database password of the order service from AWS Secrets Manager to its file
  sdd.devops_flow.security_secret:
    name: database
    backend: aws-secrets-manager
    secret_id: order-intake/prod/database
    key: password
    rotation_days: 30
    dest: /opt/order-intake-api/shared/secrets/database-password
    folder_mode: "0700"
    owner: root
    group: root
  no_log: true

- name: Only check the age of a Vault secret
  sdd.devops_flow.security_secret:
    backend: vault
    secret_id: order-intake/prod/partner-oauth
    vault_url: https://vault.example.com:8200
    vault_token: "{{ lookup('ansible.builtin.env', 'VAULT_TOKEN') }}"
    rotation_days: 30
  no_log: true
  register: partner_oauth

- name: An ansible-vault variable to its file
  sdd.devops_flow.security_secret:
    name: api-token
    backend: value
    value: "{{ vault_api_token }}"
    rotated_on: "2025-01-15"
    rotation_days: 90
    dest: /etc/order-intake/api-token
  no_log: true
"""

RETURN = r"""
name:
  description: The label of the secret.
  returned: always
  type: str
  sample: database
backend:
  description: Where the secret was read.
  returned: always
  type: str
  sample: aws-secrets-manager
dest:
  description: The file written (null without O(dest)).
  returned: always
  type: str
  sample: /opt/order-intake-api/shared/secrets/database-password
version:
  description: Version of the value (AWS version id or Vault KV version), when the store has one.
  returned: always
  type: str
  sample: "3"
last_changed:
  description: When the current value was set, in UTC (null when the store does not say).
  returned: always
  type: str
  sample: "2025-01-15T10:00:00+00:00"
changed_from:
  description: Which date of the store RV(last_changed) comes from.
  returned: always
  type: str
  sample: LastChangedDate
age_days:
  description: Days since RV(last_changed).
  returned: always
  type: int
  sample: 12
rotation_days:
  description: The rotation period checked.
  returned: always
  type: int
  sample: 30
rotation_enabled:
  description: Whether the store rotates the secret by itself (AWS).
  returned: always
  type: bool
  sample: false
rotation_interval_days:
  description: The store's own rotation schedule in days (AWS).
  returned: always
  type: int
  sample: 30
status:
  description: The rotation check, pass, fail or not-applicable.
  returned: always
  type: str
  sample: pass
evidence:
  description: What the check found, in words.
  returned: always
  type: str
  sample: last changed 2025-01-15 (LastChangedDate, 12 days ago); within the 30 days 9.5.6 allows
value:
  description: The secret, only with O(return_value=true).
  returned: when O(return_value=true)
  type: str
"""

import os
from typing import Any, Dict, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.security_secrets import (
    SecretError,
    SecretRead,
    aws_client,
    aws_read,
    parse_time,
    rotation,
    same_content,
    select_key,
    vault_client,
    vault_read,
    write_atomic,
)

ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    "name": {"type": "str"},
    "backend": {"type": "str", "required": True, "choices": ["aws-secrets-manager", "vault", "value"]},
    "secret_id": {"type": "str", "no_log": False},
    "key": {"type": "str", "no_log": False},
    "value": {"type": "str", "no_log": True},
    "rotated_on": {"type": "str"},
    "rotation_days": {"type": "int"},
    "fail_on_overdue": {"type": "bool", "default": False},
    "dest": {"type": "path"},
    "mode": {"type": "str", "default": "0600"},
    "folder_mode": {"type": "str"},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "return_value": {"type": "bool", "default": False},
    "aws_region": {"type": "str"},
    "aws_endpoint_url": {"type": "str"},
    "aws_profile": {"type": "str"},
    "aws_access_key_id": {"type": "str", "no_log": True},
    "aws_secret_access_key": {"type": "str", "no_log": True},
    "aws_session_token": {"type": "str", "no_log": True},
    "vault_url": {"type": "str"},
    "vault_auth": {"type": "str", "choices": ["token", "approle"], "default": "token"},
    "vault_token": {"type": "str", "no_log": True},
    "vault_role_id": {"type": "str"},
    "vault_secret_id": {"type": "str", "no_log": True},
    "vault_namespace": {"type": "str"},
    "vault_mount": {"type": "str", "default": "secret"},
    "vault_kv_version": {"type": "int", "choices": [1, 2], "default": 2},
    "vault_ca_cert": {"type": "path"},
    "vault_validate_certs": {"type": "bool", "default": True},
}

#: Built by the module; the unit tests replace them with fakes.
CLIENTS = {"aws-secrets-manager": aws_client, "vault": vault_client}


def read_secret(params: Dict[str, Any], want_value: bool) -> SecretRead:
    """Read from the chosen backend (the value only when ``want_value``)."""
    backend = params["backend"]
    label = params.get("name") or params.get("secret_id") or "the secret"
    if backend == "value":
        if params.get("value") is None:
            raise SecretError("value is required with backend=value (secret %s)" % label)
        return SecretRead(
            value=select_key(params["value"], params.get("key"), label),
            last_changed=parse_time(params.get("rotated_on")),
            changed_from="rotated_on" if params.get("rotated_on") else "",
        )
    if not params.get("secret_id"):
        raise SecretError("secret_id is required with backend=%s (secret %s)" % (backend, label))
    client = CLIENTS[backend](params)
    if backend == "aws-secrets-manager":
        return aws_read(client, params["secret_id"], want_value, params.get("key"))
    read = vault_read(
        client,
        params["secret_id"],
        params.get("vault_mount") or "secret",
        int(params.get("vault_kv_version") or 2),
        want_value,
        params.get("key"),
    )
    if read.last_changed is None and params.get("rotated_on"):
        read.last_changed = parse_time(params["rotated_on"])
        read.changed_from = "rotated_on"
    return read


def make_folder(module: AnsibleModule, dest: str, folder_mode: Optional[str]) -> bool:
    """Create the folder of ``dest`` with ``folder_mode`` when it is missing; whether it was (or would be)."""
    folder = os.path.dirname(os.path.abspath(dest))
    if os.path.isdir(folder):
        return False
    if not folder_mode:
        raise SecretError("the folder of %s does not exist (folder_mode creates it)" % dest)
    if not module.check_mode:
        try:
            os.makedirs(os.path.dirname(folder), 0o755, exist_ok=True)
            os.mkdir(folder, int(folder_mode, 8))
            os.chmod(folder, int(folder_mode, 8))
        except OSError as exc:
            raise SecretError("cannot create %s: %s" % (folder, exc.strerror or exc)) from None
    return True


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    dest = params.get("dest")
    label = params.get("name") or params.get("secret_id") or "secret"
    result: Dict[str, Any] = {
        "changed": False,
        "name": label,
        "backend": params["backend"],
        "dest": dest,
    }
    try:
        mode = int(str(params["mode"]), 8)
        int(str(params.get("folder_mode") or "0"), 8)
    except ValueError:
        module.fail_json(msg="mode and folder_mode must be octal numbers such as 0600", **result)
    try:
        read = read_secret(params, want_value=bool(dest or params["return_value"]))
        result.update(rotation(read, params.get("rotation_days")))
        result["version"] = read.version
        if dest:
            data = read.value or b""
            exists = os.path.exists(dest)
            result["changed"] = make_folder(module, dest, params.get("folder_mode"))
            if not same_content(dest, data):
                result["changed"] = True
                if module._diff:
                    result["diff"] = {
                        "before_header": dest,
                        "after_header": dest,
                        "before": "(secret content, not shown)\n" if exists else "",
                        "after": "(new secret content, not shown)\n",
                    }
                if not module.check_mode:
                    write_atomic(dest, data, mode)
            if os.path.exists(dest):
                file_args = {
                    "path": dest,
                    "mode": params["mode"],
                    "owner": params.get("owner"),
                    "group": params.get("group"),
                    "attributes": None,
                    "secontext": [None, None, None],
                }
                result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
        if params["return_value"] and read.value is not None:
            result["value"] = read.value.decode("utf-8", errors="replace")
    except SecretError as exc:
        result.pop("value", None)
        module.fail_json(msg="secret %s: %s" % (label, exc), **result)
    if params["fail_on_overdue"] and result.get("status") == "fail":
        result.pop("value", None)
        module.fail_json(msg="secret %s: %s" % (label, result.get("evidence")), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
