# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs the backup_* modules share, and the thin wrapper that runs an engine action.

The option names are the setting names of ``backup_engine`` (and of the settings file
of scheduled runs), so a module's parameters, minus the unset ones, are the settings.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_crypto, backup_files, backup_pg
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_engine import BackupError
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner, module_runner
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_store import StoreError

ERRORS = (BackupError, StoreError, backup_crypto.CryptoError, backup_pg.PgError, backup_files.FilesError)

DESTINATION = {
    "name": {"type": "str"},
    "type": {"type": "str", "choices": ["local", "s3", "gcs", "azure"], "default": "local"},
    "path": {"type": "path"},
    "bucket": {"type": "str"},
    "prefix": {"type": "str", "default": ""},
    "region": {"type": "str"},
    "endpoint_url": {"type": "str"},
    "access_key": {"type": "str", "no_log": True},
    "secret_key": {"type": "str", "no_log": True},
    "session_token": {"type": "str", "no_log": True},
    "profile": {"type": "str"},
    "sse": {"type": "str"},
    "kms_key_id": {"type": "str", "no_log": False},
    "storage_class": {"type": "str"},
    "project": {"type": "str"},
    "credentials_file": {"type": "path"},
    "account_url": {"type": "str"},
    "container": {"type": "str"},
    "connection_string": {"type": "str", "no_log": True},
    "credential": {"type": "str", "no_log": True},
}

POSTGRESQL = {
    "host": {"type": "str", "default": ""},
    "port": {"type": "int", "default": 5432},
    "user": {"type": "str", "default": "postgres"},
    "password": {"type": "str", "no_log": True},
    "maintenance_db": {"type": "str", "default": "postgres"},
    "sslmode": {"type": "str", "default": ""},
    "bin_dir": {"type": "path"},
    "databases": {"type": "list", "elements": "str", "default": []},
    "exclude_databases": {"type": "list", "elements": "str", "default": []},
    "globals": {"type": "bool", "default": True},
    "role_passwords": {"type": "bool", "default": True, "no_log": False},
    "compress": {"type": "int", "default": 6},
}

SECRET_STORE = {
    "type": {"type": "str", "choices": ["aws-secrets-manager"], "default": "aws-secrets-manager"},
    "secret_id": {"type": "str", "required": True, "no_log": False},
    "json_key": {"type": "str", "no_log": False},
    "region": {"type": "str"},
    "endpoint_url": {"type": "str"},
    "access_key": {"type": "str", "no_log": True},
    "secret_key": {"type": "str", "no_log": True},
    "session_token": {"type": "str", "no_log": True},
    "profile": {"type": "str"},
}


def common_spec() -> Dict[str, Any]:
    """Options every backup_* module has."""
    return {
        "service": {"type": "str", "required": True},
        "destinations": {"type": "list", "elements": "dict", "required": True, "options": DESTINATION},
        "postgresql": {"type": "dict", "options": POSTGRESQL},
        "encryption_key": {"type": "str", "no_log": True},
        "encryption_key_file": {"type": "path", "no_log": False},
        "secret_store": {"type": "dict", "options": SECRET_STORE, "no_log": False},
        "staging_dir": {"type": "path", "default": "/var/lib/sdd-devops-flow/backup-staging"},
        "state_dir": {"type": "path", "default": "/var/lib/sdd-devops-flow/backup"},
    }


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def settings_from(params: Dict[str, Any]) -> Dict[str, Any]:
    """Module parameters as engine settings (unset options left out)."""
    settings: Dict[str, Any] = _clean(dict(params))
    return settings


def ids_text(ids: List[str]) -> str:
    return "".join("%s\n" % i for i in ids)


def run(module: AnsibleModule, action: Callable[[Dict[str, Any], Runner], Dict[str, Any]]) -> None:
    """Run an engine action with the module's parameters and ``run_command``; exit or fail the module."""
    try:
        result = action(settings_from(module.params), module_runner(module))
    except ERRORS as exc:
        details = dict(getattr(exc, "details", {}) or {})
        details.pop("changed", None)
        details.pop("msg", None)
        module.fail_json(msg=str(exc), changed=bool(details.get("backup_id")), **details)
    module.exit_json(**result)
